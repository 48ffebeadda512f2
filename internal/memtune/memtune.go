// Package memtune sets the C allocator up for a long-running video
// process: frames of a few MB are allocated and freed many times a second
// by OpenCV, FFmpeg, ONNX Runtime and the GL driver, from many threads.
//
// glibc's defaults suit that badly. Each thread that meets a locked arena
// gets one of its own (up to 8 per core), and freed frame-sized blocks
// stay in whichever arena they came from. And glibc raises its mmap
// threshold to the size of the largest block freed (up to 32 MB), so
// after the first frames, frame buffers stop being mmapped (and given back
// on free) and come from the arenas, which fragment and grow. Measured on
// the app under Xvfb with a 720p clip: RSS 783 MB after two minutes with
// the defaults, 622 MB with two arenas and a fixed 256 KB threshold. The
// price of the fixed threshold is CPU: frame-sized blocks are mapped and
// faulted in each time (bench at 720p: display ~28 fps against ~29 with
// glibc's moving threshold; docs/reliability.md).
//
// Apply leaves alone what the user set through glibc's environment
// (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_, GLIBC_TUNABLES). Elsewhere
// than glibc it does nothing.
package memtune

import (
	"os"
	"strings"
)

const (
	// ArenaMax is the number of malloc arenas: the stages run on a few
	// threads and allocate big blocks rarely enough that two arenas do
	// not contend.
	ArenaMax = 2
	// MMapThreshold is the fixed size from which blocks are mmapped and
	// returned to the system on free. Setting it also stops glibc from
	// raising it. A 256x192 float32 plane is 192 KB and stays in the heap;
	// a 640x480 BGR frame (900 KB) is mmapped.
	MMapThreshold = 256 << 10
)

// Setting is one allocator option and whether Apply set it.
type Setting struct {
	Name  string
	Value int
	Set   bool   // false: left as it was
	Why   string // when not set: the variable that was there, or "not glibc"
}

// Apply sets the options; call it before the first frames. It is safe to
// call more than once.
func Apply() []Setting {
	tunables := strings.Contains(os.Getenv("GLIBC_TUNABLES"), "glibc.malloc.")
	out := make([]Setting, 0, 2)
	for _, o := range []struct {
		name, env string
		param     int
		value     int
	}{
		{"arena_max", "MALLOC_ARENA_MAX", paramArenaMax, ArenaMax},
		{"mmap_threshold", "MALLOC_MMAP_THRESHOLD_", paramMMapThreshold, MMapThreshold},
	} {
		s := Setting{Name: o.name, Value: o.value}
		switch {
		case os.Getenv(o.env) != "":
			s.Why = o.env + " is set"
		case tunables:
			s.Why = "GLIBC_TUNABLES sets malloc options"
		default:
			s.Set, s.Why = mallopt(o.param, o.value)
		}
		out = append(out, s)
	}
	return out
}
