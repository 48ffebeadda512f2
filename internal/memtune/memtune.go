// Package memtune sets the C allocator up for a long-running video
// process: frames of a few MB are allocated and freed many times a second
// by OpenCV, FFmpeg, ONNX Runtime and the GL driver, from many threads.
//
// glibc gives each thread that meets a locked arena one of its own, up to
// 8 per core, and a freed block stays in the arena it came from, so a
// dozen decoder, inference and GL threads each keep their own high-water
// mark of frame buffers. Two arenas are enough for our few busy threads.
// Measured with `mgvton bench` on a 720p clip (docs/reliability.md): peak
// RSS 367-389 MB with two arenas against 417-433 MB with glibc's default,
// at the same display rate.
//
// A fixed mmap threshold (frame buffers mapped and given back on every
// free) saved another ~25 MB but cost ~5% of the display rate in page
// faults (bench at 720p: ~28 against ~29.3 fps), so it is left to glibc.
//
// The setting is made when the program is loaded, by a C constructor,
// before the Go runtime starts threads (glibc fixes the limit at the first
// allocation of a second thread): importing the package is enough. It
// leaves alone what the user set through glibc's environment
// (MALLOC_ARENA_MAX, GLIBC_TUNABLES) and is off with MGVTON_MEMTUNE=off.
// Elsewhere than glibc it does nothing.
package memtune

// ArenaMax is the number of malloc arenas (also in mallopt_glibc.go's
// CFLAGS).
const ArenaMax = 2

// Setting is one allocator option and whether it was set.
type Setting struct {
	Name  string
	Value int
	Set   bool   // false: left as it was
	Why   string // when not set: the variable that was there, or "not glibc"
}

// Settings says what was set when the program was loaded.
func Settings() []Setting {
	set, why := state()
	return []Setting{{Name: "arena_max", Value: ArenaMax, Set: set, Why: why}}
}
