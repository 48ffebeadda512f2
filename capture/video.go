package capture

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"gocv.io/x/gocv"

	"mgvton/internal/matpool"
)

const (
	// cameraMaxFailures consecutive failed reads, cameraRetryDelay apart,
	// mean the camera is gone. An unplugged camera fails at once; a stalled
	// one blocks in the driver for its select timeout (10 s in OpenCV 4.6,
	// OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT) before each failure.
	cameraMaxFailures = 10
	cameraRetryDelay  = 20 * time.Millisecond
	// cameraStall without a frame also means the camera is gone, however
	// few reads failed (each may block for the select timeout).
	cameraStall = 5 * time.Second
	// fileMaxFailures consecutive failed reads end a pass over a file.
	// OpenCV already skips undecodable packets inside one read (up to
	// OPENCV_FFMPEG_READ_ATTEMPTS), so a failure is a real end or a hard error.
	fileMaxFailures = 3
	// maxLag is how far behind real time a paced source may fall before it
	// restarts its clock instead of delivering frames in a burst.
	maxLag     = 250 * time.Millisecond
	defaultFPS = 30
)

// videoSource reads a camera or a video file through OpenCV's VideoCapture.
type videoSource struct {
	info   Info
	path   string // file or device as given, for errors
	abs    string // absolute file path, for reopening
	camera bool
	pipe   bool // a named pipe: played once, as its writer delivers it
	pipeFD int  // the pipe's descriptor FFmpeg reads ("pipe:N"; FFmpeg never closes it), or -1
	opts   Options

	done      chan struct{} // closed by Close; interrupts waits
	closeOnce sync.Once
	worker    *worker // runs the decodes

	// free holds Mats given back through Recycle, decoded into again.
	free *matpool.List

	mu       sync.Mutex // held for a whole Read; guards all fields below
	vc       *gocv.VideoCapture
	err      error // final error, returned by every later Read
	seq      int64
	frameDur time.Duration
	pace     pacer
	// files
	expected   int           // frames per pass announced by the container, 0 if unknown
	passFrames int           // frames read in the current pass
	offset     time.Duration // PTS of the start of the current pass
	lastPTS    time.Duration
	start      time.Time // cameras: time of the first frame, origin of PTS
	lastGood   time.Time // cameras: time of the last frame (or of Open)
}

func openCamera(n int, dev string, opts Options) (Source, error) {
	// Look at the device node first: OpenCV only says "can't open".
	f, err := os.OpenFile(dev, os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &Error{Op: "open", Path: dev, Reason: ErrNotFound, Err: errno(err)}
		}
		return nil, &Error{Op: "open", Path: dev, Reason: ErrCameraLost, Err: errno(err)}
	}
	if err := f.Close(); err != nil {
		return nil, &Error{Op: "open", Path: dev, Err: errno(err)}
	}
	vc, err := gocv.VideoCaptureDeviceWithAPI(n, gocv.VideoCaptureV4L2)
	if err != nil || !vc.IsOpened() {
		closeErr := vc.Close()
		return nil, &Error{Op: "open", Path: dev, Reason: ErrCameraLost,
			Err: errors.Join(errors.New("device did not open (busy or not a capture device)"), closeErr)}
	}
	fourcc := opts.FourCC
	if fourcc == "" && opts.Width*opts.Height > 640*480 {
		// OpenCV prefers raw YUYV, which USB 2 webcams deliver at 720p at
		// only 5 to 10 fps; MJPG gives them 30. A camera without MJPG
		// refuses the request and keeps its format.
		fourcc = "MJPG"
	}
	if len(fourcc) == 4 {
		vc.Set(gocv.VideoCaptureFOURCC, vc.ToCodec(fourcc))
	}
	if opts.Width > 0 && opts.Height > 0 {
		vc.Set(gocv.VideoCaptureFrameWidth, float64(opts.Width))
		vc.Set(gocv.VideoCaptureFrameHeight, float64(opts.Height))
	}
	if opts.FPS > 0 {
		vc.Set(gocv.VideoCaptureFPS, opts.FPS)
	}
	fps := vc.Get(gocv.VideoCaptureFPS)
	if !(fps > 0 && fps < 1000) {
		fps = opts.FPS
	}
	if fps <= 0 {
		fps = defaultFPS
	}
	s := newVideoSource(vc, dev, true, opts, Info{
		Name:   fmt.Sprintf("camera %d", n),
		Kind:   KindCamera,
		Width:  int(vc.Get(gocv.VideoCaptureFrameWidth)),
		Height: int(vc.Get(gocv.VideoCaptureFrameHeight)),
		FPS:    fps,
	})
	return s, nil
}

func openFile(path, name string, kind Kind, opts Options) (Source, error) {
	abs, err := filepath.Abs(path) // FFmpeg reads "a:b.mp4" as protocol "a"; "/…" never is
	if err != nil {
		return nil, &Error{Op: "open", Path: path, Err: err}
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, statError(path, err)
	}
	pipe := st.Mode()&fs.ModeNamedPipe != 0
	input, pipeFD := abs, -1
	switch {
	case pipe:
		// OpenCV's open of a pipe blocks in C until a writer comes, for
		// good if none does (or if the writer came and left already): wait
		// for the writer's first bytes here, where the wait can end, and
		// give FFmpeg the descriptor opened for that ("pipe:N").
		pipeFD, err = openPipe(abs, pipeOpenWait)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, &Error{Op: "open", Path: path, Reason: ErrStalled,
				Err: fmt.Errorf("nothing written to the pipe for %v", pipeOpenWait)}
		} else if err != nil {
			return nil, &Error{Op: "open", Path: path, Err: err}
		}
		input = "pipe:" + strconv.Itoa(pipeFD)
	case !st.Mode().IsRegular():
		return nil, &Error{Op: "open", Path: path, Err: errors.New("not a regular file or named pipe")}
	default:
		if f, err := os.Open(abs); err != nil { // OpenCV would only say "can't open"
			return nil, &Error{Op: "open", Path: path, Err: errno(err)}
		} else if err := f.Close(); err != nil {
			return nil, &Error{Op: "open", Path: path, Err: errno(err)}
		}
	}
	vc, err := openVideoFile(input)
	if err != nil {
		if pipeFD >= 0 {
			syscall.Close(pipeFD)
		}
		return nil, &Error{Op: "open", Path: path, Reason: ErrCorrupt, Err: err}
	}
	fps := vc.Get(gocv.VideoCaptureFPS)
	if !(fps > 0 && fps < 1000) {
		fps = defaultFPS
	}
	frames := vc.Get(gocv.VideoCaptureFrameCount)
	if !(frames > 0 && frames < math.MaxInt32) {
		frames = 0
	}
	s := newVideoSource(vc, abs, false, opts, Info{
		Name:   name,
		Kind:   kind,
		Width:  int(vc.Get(gocv.VideoCaptureFrameWidth)),
		Height: int(vc.Get(gocv.VideoCaptureFrameHeight)),
		FPS:    fps,
		Frames: int(frames),
	})
	s.path = path
	s.abs = abs
	s.pipe = pipe
	s.pipeFD = pipeFD
	return s, nil
}

// pipeOpenWait bounds how long Open waits for a named pipe's writer to send
// its first bytes.
var pipeOpenWait = 10 * time.Second

// openPipe opens the named pipe path for reading without blocking, waits
// up to d until there is data in it (which it leaves there) and returns a
// blocking descriptor of it for the decoder, which the caller closes. The
// error matches os.ErrDeadlineExceeded when nothing came.
func openPipe(path string, d time.Duration) (int, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return -1, errno(err)
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	if err := f.SetReadDeadline(time.Now().Add(d)); err != nil { // fails if not pollable
		return -1, err
	}
	var ioctlErr error
	err = rc.Read(func(fd uintptr) bool {
		var n int32
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); e != 0 {
			ioctlErr = e
			return true
		}
		return n > 0 // else wait until readable (data, or a writer that left)
	})
	if err == nil {
		err = ioctlErr
	}
	if err != nil {
		return -1, err
	}
	fd, dupErr := -1, error(nil)
	if err := rc.Control(func(sysfd uintptr) {
		// The duplicate shares the open pipe (and its O_NONBLOCK flag,
		// cleared for FFmpeg's blocking reads); f's own descriptor is
		// closed on return.
		syscall.ForkLock.RLock()
		defer syscall.ForkLock.RUnlock()
		if fd, dupErr = syscall.Dup(int(sysfd)); dupErr == nil {
			syscall.CloseOnExec(fd)
			if dupErr = syscall.SetNonblock(fd, false); dupErr != nil {
				syscall.Close(fd)
				fd = -1
			}
		}
	}); err != nil {
		return -1, err
	}
	return fd, dupErr
}

// truncated reports whether the pass that just ended stopped short of what
// the container announced, in frames and in time. OpenCV announces the
// frame count the container stores (MP4) or estimates it as duration times
// nominal rate (Matroska), which overcounts variable-rate video; so a pass
// with fewer frames is complete if its timestamps reach the duration the
// estimate came from.
func (s *videoSource) truncated() bool {
	if s.expected <= 0 {
		return false // nothing announced: any end is the end
	}
	slack := 1 + s.expected/100
	if s.passFrames+slack >= s.expected {
		return false
	}
	announced := time.Duration(float64(s.expected) / s.info.FPS * float64(time.Second))
	covered := s.lastPTS - s.offset + s.frameDur
	return covered < announced*97/100-s.frameDur
}

// openVideoFile opens path with OpenCV's FFmpeg backend (never the image
// sequence or GStreamer backends, which read file names differently).
func openVideoFile(abs string) (*gocv.VideoCapture, error) {
	vc, err := gocv.VideoCaptureFileWithAPI(abs, gocv.VideoCaptureFFmpeg)
	if err != nil || !vc.IsOpened() {
		closeErr := vc.Close()
		return nil, errors.Join(errors.New("not a readable video"), closeErr)
	}
	return vc, nil
}

func newVideoSource(vc *gocv.VideoCapture, path string, camera bool, opts Options, info Info) *videoSource {
	s := &videoSource{
		info:     info,
		path:     path,
		camera:   camera,
		opts:     opts,
		done:     make(chan struct{}),
		free:     matpool.New(maxFreeMats),
		vc:       vc,
		frameDur: time.Duration(float64(time.Second) / info.FPS),
		expected: info.Frames,
		lastGood: time.Now(),
		pipeFD:   -1,
	}
	s.worker = newWorker(s.done, s.read)
	return s
}

func (s *videoSource) Info() Info { return s.info }

// maxFreeMats bounds the Mats a video source keeps for reuse: about the
// frames a live stream has in flight.
const maxFreeMats = 3

// Recycle implements Recycler.
func (s *videoSource) Recycle(m gocv.Mat) { s.free.Put(m) }

// Close frees the source. A Read in progress in the decoder is waited for
// at most closeWait; one blocked longer (a pipe whose writer stopped, a hung
// mount, a stalled camera) is abandoned: Read returns ErrClosed at once and
// the VideoCapture is released when the blocked call returns.
func (s *videoSource) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.free.Close()
		close(s.done)
		if s.worker.wait(closeWait) {
			err = s.release()
		} else {
			go func() { <-s.worker.exited; s.release() }()
		}
	})
	return err
}

// release closes the decoder once no decode uses it.
func (s *videoSource) release() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.vc != nil {
		err = s.vc.Close()
		s.vc = nil
	}
	if s.pipeFD >= 0 {
		err = errors.Join(err, syscall.Close(s.pipeFD))
		s.pipeFD = -1
	}
	if s.err == nil {
		s.err = s.errClosed()
	}
	return err
}

func (s *videoSource) errClosed() error {
	return &Error{Op: "read", Path: s.path, Reason: ErrClosed}
}

// Read decodes the next frame on the source's worker goroutine, so that
// Close interrupts it even while the decoder is blocked in C.
func (s *videoSource) Read() (Frame, error) { return s.worker.Read(s.errClosed()) }

func (s *videoSource) read() (Frame, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return Frame{}, s.err
	}
	if closed(s.done) {
		return Frame{}, s.closedErr()
	}
	m := s.free.Get() // a recycled Mat to decode into, when there is one
	for failures := 0; ; {
		if s.vc.Read(&m) && !m.Empty() {
			break
		}
		if closed(s.done) {
			m.Close()
			return Frame{}, s.closedErr()
		}
		failures++
		newPass, err := s.readFailed(failures)
		if err != nil {
			m.Close()
			s.err = err
			return Frame{}, err
		}
		if newPass {
			failures = 0
			continue
		}
		if s.camera && !sleep(s.done, cameraRetryDelay) {
			m.Close()
			return Frame{}, s.closedErr()
		}
	}
	if err := toBGR(&m); err != nil {
		m.Close()
		s.err = &Error{Op: "read", Path: s.path, Reason: ErrCorrupt, Err: err}
		return Frame{}, s.err
	}
	now := time.Now()
	s.lastGood = now
	var pts time.Duration
	if s.camera {
		if s.seq == 0 {
			s.start = now
		}
		pts = now.Sub(s.start)
	} else {
		s.passFrames++
		pts = s.offset + time.Duration(s.vc.Get(gocv.VideoCapturePosMsec)*float64(time.Millisecond))
		if s.seq > 0 && pts <= s.lastPTS {
			pts = s.lastPTS + s.frameDur // no or broken timestamps
		}
		if s.opts.RealTime {
			if !s.pace.wait(pts, s.done) {
				m.Close()
				return Frame{}, s.closedErr()
			}
			now = time.Now()
		}
	}
	s.lastPTS = pts
	f := Frame{Mat: m, Time: now, PTS: pts, Seq: s.seq}
	s.seq++
	return f, nil
}

// closedErr makes ErrClosed the final error, unless there is one; s.mu held.
func (s *videoSource) closedErr() error {
	if s.err == nil {
		s.err = s.errClosed()
	}
	return s.err
}

// readFailed decides what the failures-th consecutive failed read means:
// retry (false, nil), a new pass of a looping file has started (true, nil),
// or the final error.
func (s *videoSource) readFailed(failures int) (newPass bool, err error) {
	if s.camera {
		stalled := time.Since(s.lastGood)
		if failures < cameraMaxFailures && stalled < cameraStall {
			return false, nil
		}
		return false, &Error{Op: "read", Path: s.path, Reason: ErrCameraLost,
			Err: fmt.Errorf("no frame for %v (unplugged or busy)", stalled.Round(time.Millisecond))}
	}
	if failures < fileMaxFailures {
		return false, nil
	}
	// End of a pass: compare with what the container announced.
	if s.passFrames == 0 {
		return false, &Error{Op: "read", Path: s.path, Reason: ErrCorrupt, Err: errors.New("no frame could be decoded")}
	}
	if s.truncated() {
		return false, &Error{Op: "read", Path: s.path, Reason: ErrCorrupt,
			Err: fmt.Errorf("truncated or corrupt: decoding ended after %d of %d frames", s.passFrames, s.expected)}
	}
	if !s.opts.Loop || s.pipe { // what a pipe delivered is gone: it cannot loop
		return false, io.EOF
	}
	// Reopen rather than seek: seeking to 0 is unreliable in some containers.
	if err := s.vc.Close(); err != nil {
		return false, &Error{Op: "read", Path: s.path, Err: err}
	}
	s.vc = nil
	if _, err := os.Stat(s.abs); err != nil {
		return false, &Error{Op: "read", Path: s.path, Reason: ErrNotFound, Err: fmt.Errorf("the file was deleted or moved while playing: %w", errno(err))}
	}
	vc, err := openVideoFile(s.abs)
	if err != nil {
		return false, &Error{Op: "read", Path: s.path, Reason: ErrCorrupt, Err: fmt.Errorf("reopen to loop: %w", err)}
	}
	s.vc = vc
	s.offset = s.lastPTS + s.frameDur
	s.passFrames = 0
	return true, nil
}
