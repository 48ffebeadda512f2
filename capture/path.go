package capture

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// TimestampedPath returns a name in dir for a new file made at t, like
// dir/mgvton-2026-11-29_22-05-03.mp4 for prefix "mgvton" and ext ".mp4"
// (the dot is optional). If that name is taken it tries -2, -3, and so on.
// Another process may take the name before it is used: NewRecorder refuses
// an existing file, so call TimestampedPath again when its error matches
// fs.ErrExist.
func TimestampedPath(dir, prefix, ext string, t time.Time) string {
	if ext != "" && !strings.HasPrefix(ext, ".") {
		ext = "." + ext
	}
	base := t.Format("2006-01-02_15-04-05")
	if prefix != "" {
		base = prefix + "-" + base
	}
	for n := 1; ; n++ {
		name := base
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		p := filepath.Join(dir, name+ext)
		// Free, or not checkable: any error but "does not exist" (an
		// unreadable folder) would repeat for every name, so return this one
		// and let the create report it.
		if _, err := os.Lstat(p); err != nil {
			return p
		}
	}
}
