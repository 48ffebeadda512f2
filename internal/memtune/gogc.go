package memtune

import (
	"os"
	"runtime/debug"
)

// GCPercent is the Go collector's target (GOGC) the program runs with
// unless the environment sets GOGC (or MGVTON_MEMTUNE=off): the heap may
// grow by a quarter of its live size between collections instead of
// doubling. The app's live Go heap is ~40 MB (fonts, pooled pictures,
// tensors) and, the live warp results being reused, it allocates a few MB
// a second, so the extra collections cost next to nothing while the window
// keeps ~35 MB less resident at 1280x720 (with the reuse; docs/reliability.md).
const GCPercent = 25

func init() {
	if os.Getenv("GOGC") != "" || os.Getenv("MGVTON_MEMTUNE") == "off" {
		return
	}
	debug.SetGCPercent(GCPercent)
}
