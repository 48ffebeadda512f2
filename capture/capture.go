// Package capture reads frames from cameras, video files and image folders,
// enumerates cameras, and writes clips.
//
// Frames flow out of a Source (Open) and into a Recorder (NewRecorder).
// Every Frame a Source returns is owned by the receiver, who must Close its
// Mat exactly once; a Recorder never takes ownership of what it is given.
//
// Errors carry a sentinel the caller can branch on with errors.Is
// (ErrNotFound, ErrCameraLost, ErrCorrupt, ErrClosed, ErrNoFrames) and read
// like "capture: open /x/y.mp4: no such file or directory".
package capture

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"mgvton/internal/bundle"
)

// Frame is one picture from a Source. The receiver of a Frame owns Mat
// (BGR, 8UC3) and must Close it exactly once.
type Frame struct {
	Mat  gocv.Mat
	Time time.Time     // capture time (wall clock, with Go's monotonic reading)
	PTS  time.Duration // position in the stream; keeps increasing across loops
	Seq  int64         // 0 for the first frame, then +1 per frame returned
}

// Kind says what a Source reads from.
type Kind string

// Kinds of Source.
const (
	KindCamera Kind = "camera"
	KindFile   Kind = "file"
	KindFolder Kind = "folder"
	KindDemo   Kind = "demo"
)

// Info describes a Source. It does not change after Open.
type Info struct {
	Name   string  // human label: file or folder name, "demo", "camera 0"
	Kind   Kind    // camera, file, folder or demo
	Width  int     // frame width in pixels
	Height int     // frame height in pixels
	FPS    float64 // nominal frame rate
	Frames int     // frames in one pass of a file (as its container announces it: estimated for Matroska) or folder; 0 for cameras
}

// Source delivers frames one at a time. Read and Close may be called from
// different goroutines; Read itself must not be called concurrently.
//
// Frame ownership: every Frame returned with a nil error belongs to the
// caller, who must Close Frame.Mat exactly once. On error the Frame is zero
// and there is nothing to close.
type Source interface {
	// Read blocks until the next frame. It returns io.EOF at the end of a
	// non-looping file or folder, and errors matching ErrCameraLost,
	// ErrCorrupt or ErrClosed. Errors are final: later calls return them again.
	Read() (Frame, error)
	// Info describes the source.
	Info() Info
	// Close releases the source. It is idempotent and makes a blocked or
	// later Read return ErrClosed at once. It waits about a second at most
	// for a decode in progress; a decode blocked in C longer than that (a
	// pipe whose writer stopped, a hung mount, a camera driver waiting out
	// its timeout) is abandoned and releases the source when it returns, so
	// a stalled camera may still be busy for a few seconds after Close.
	Close() error
}

// Recycler is implemented by Sources that can decode into Mats their
// receiver gives back instead of closing them (the camera and video file
// sources). Recycle takes ownership of m: the caller must not touch it (or
// any Mat sharing its pixels) again. It may be called from any goroutine,
// also after Close (m is then closed). Mats that are closed instead only
// cost the source a new allocation.
type Recycler interface {
	Recycle(m gocv.Mat)
}

// Options tune Open. Zero values mean "the source's own default".
type Options struct {
	Width, Height int     // camera: requested frame size
	FPS           float64 // camera: requested rate; folder: playback rate (default 30)
	FourCC        string  // camera: requested pixel format; default "MJPG" above 640x480, else the driver's
	Loop          bool    // file, folder: start again at the end instead of io.EOF (demo always loops)
	RealTime      bool    // file, folder, demo: deliver frames at their own rate, as a camera would
}

// Sentinel errors, matched with errors.Is.
var (
	// ErrNotFound: the file, folder, camera or demo clip does not exist, or a
	// folder holds no images.
	ErrNotFound = errors.New("not found")
	// ErrCameraLost: the camera cannot be opened (busy, permission) or stopped
	// delivering frames (unplugged). Close the source and Open the same spec
	// again to retry; there is no separate Reopen.
	ErrCameraLost = errors.New("camera lost")
	// ErrStalled: a source delivered no frame for a while without ending or
	// failing (a frozen camera, a pipe whose writer paused, a file on a hung
	// mount). Read is still waiting, so Read never returns it: it is what a
	// watchdog of the stream (live.Session) reports, and it is not final:
	// the stream goes on when frames come again. Open returns it for a
	// named pipe nothing is written to.
	ErrStalled = errors.New("stalled")
	// ErrCorrupt: a video or image cannot be decoded, or decoding ended before
	// the number of frames its container announces (truncated file).
	ErrCorrupt = errors.New("corrupt or truncated")
	// ErrClosed: the Source or Recorder was closed.
	ErrClosed = errors.New("closed")
	// ErrNoFrames: a Recorder was closed before any frame was written; no
	// file is left behind.
	ErrNoFrames = errors.New("no frames written")
)

// Error is the error type of this package: the operation, the file or device
// it was about, the sentinel it matches (Reason) and the underlying cause.
type Error struct {
	Op     string // "open", "read", "record", "find demo", ...
	Path   string // file, folder, device or spec; may be empty
	Reason error  // one of the sentinel errors, or nil
	Err    error  // the cause, or nil when Reason says it all
}

func (e *Error) Error() string {
	msg := "unknown error"
	switch {
	case e.Err != nil:
		msg = e.Err.Error()
	case e.Reason != nil:
		msg = e.Reason.Error()
	}
	if e.Path == "" {
		return "capture: " + e.Op + ": " + msg
	}
	return "capture: " + e.Op + " " + e.Path + ": " + msg
}

// Unwrap lets errors.Is and errors.As see both the sentinel and the cause.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Reason != nil {
		errs = append(errs, e.Reason)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// errno strips an *fs.PathError down to its cause, since Error already
// names the path.
func errno(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// DemoFile is the file name of the bundled demo clip.
const DemoFile = "demo.mp4"

// DemoPath finds the bundled demo clip in the assets folders, in order:
// $MGVTON_ASSETS, then assets/ beside the executable (after resolving
// symlinks), in its parent, and in the current directory. The error matches
// ErrNotFound and lists the places it looked.
func DemoPath() (string, error) {
	dirs := bundle.AssetDirs()
	for _, d := range dirs {
		p := filepath.Join(d, DemoFile)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", &Error{Op: "find demo", Path: DemoFile, Reason: ErrNotFound,
		Err: fmt.Errorf("not in %s", strings.Join(dirs, ", "))}
}

// Open opens a frame source. spec is one of:
//
//   - "demo": the bundled demo clip (DemoPath), always looping;
//   - "cam:N" or a V4L2 device path ("/dev/videoN", "/dev/v4l/by-id/..."):
//     a camera, asking for opts.Width, Height, FPS and FourCC;
//   - the path of a video file (opts.Loop, opts.RealTime);
//   - the path of a named pipe (FIFO) carrying a video in a format that can
//     be read as a stream (Matroska, MPEG-TS, NUT; not plain MP4): played
//     once, as its writer delivers it, never looped. Open waits up to 10 s
//     for the writer's first bytes (ErrStalled after that), Read for its
//     data;
//   - the path of a folder of images (.png .jpg .jpeg .bmp .webp .tif .tiff),
//     played in natural name order ("2.png" before "10.png") at opts.FPS.
//
// To retry a camera after ErrCameraLost, Close the source and Open again.
func Open(spec string, opts Options) (Source, error) {
	switch {
	case spec == "":
		return nil, &Error{Op: "open", Reason: ErrNotFound, Err: errors.New("empty source")}
	case spec == "demo":
		p, err := DemoPath()
		if err != nil {
			return nil, err
		}
		opts.Loop = true
		return openFile(p, "demo", KindDemo, opts)
	case strings.HasPrefix(spec, "cam:"):
		n, err := strconv.Atoi(strings.TrimPrefix(spec, "cam:"))
		if err != nil || n < 0 {
			return nil, &Error{Op: "open", Path: spec, Err: errors.New("invalid camera index")}
		}
		return openCamera(n, fmt.Sprintf("/dev/video%d", n), opts)
	case strings.HasPrefix(spec, "/dev/"):
		return openCameraPath(spec, opts)
	}
	st, err := os.Stat(spec)
	if err != nil {
		return nil, statError(spec, err)
	}
	if st.IsDir() {
		return openFolder(spec, opts)
	}
	return openFile(spec, filepath.Base(spec), KindFile, opts)
}

func statError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{Op: "open", Path: path, Reason: ErrNotFound, Err: errno(err)}
	}
	return &Error{Op: "open", Path: path, Err: errno(err)}
}

// openCameraPath resolves a device path (following /dev/v4l/by-id links) to
// its /dev/videoN node and the index OpenCV's V4L2 backend uses for it.
func openCameraPath(path string, opts Options) (Source, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, statError(path, err)
	}
	n, err := strconv.Atoi(strings.TrimPrefix(real, "/dev/video"))
	if !strings.HasPrefix(real, "/dev/video") || err != nil || n < 0 {
		return nil, &Error{Op: "open", Path: path, Err: errors.New("not a /dev/videoN camera device")}
	}
	return openCamera(n, path, opts)
}
