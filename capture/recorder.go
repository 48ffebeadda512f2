package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gocv.io/x/gocv"

	"mgvton/internal/fsutil"
)

// RecorderOptions tune NewRecorder. Zero values pick the defaults.
type RecorderOptions struct {
	FPS           float64 // output frame rate; default 30
	Width, Height int     // output size; default the first frame's. Rounded down to even sizes (H.264 4:2:0)
	Preset        string  // libx264 preset; default "ultrafast" (see NewRecorder)
	CRF           int     // libx264 constant rate factor; default 20
	FFmpeg        string  // ffmpeg executable; default "ffmpeg" on $PATH
}

const (
	// recordQueue is how many frames may wait for the encoder before Write
	// blocks: enough to absorb jitter, little enough to lose on a crash.
	recordQueue = 4
	// finishTimeout bounds how long Close waits for ffmpeg to flush the
	// encoder before it kills it.
	finishTimeout = 30 * time.Second
)

// Recorder writes frames to an MP4 (H.264, yuv420p) clip through an ffmpeg
// child process.
//
// Timing: Write stamps each frame; the clip has a constant frame rate
// (RecorderOptions.FPS) and output frame k shows the newest frame written
// with a time before t0 + (k+1)/FPS, where t0 is the first frame's time.
// Frames that arrive faster are dropped, gaps are filled by repeating the
// previous frame, so the clip lasts the wall time from the first to the
// last frame plus at most one output frame.
//
// Crash safety: the file is fragmented MP4 (a fragment per keyframe, one a
// second), playable at every fragment boundary. ffmpeg writes the file
// itself and its input is a pipe only this process holds: if this process
// dies, even by SIGKILL, the kernel closes the pipe, ffmpeg reads the end of
// its input, finishes the file with everything it was sent and exits. Only
// the frames queued in this process (recordQueue) are lost. If ffmpeg itself
// is killed, the clip still plays up to its last complete fragment. If
// ffmpeg fails (full disk), the file is cut back to its last complete
// fragment, so what was written stays playable, and Write and Close report
// the cause.
//
// Write and Close may be called from different goroutines.
type Recorder struct {
	path string
	bin  string
	opts RecorderOptions

	mu       sync.Mutex // serialises Write and Close; guards the fields below
	f        *os.File   // the output, created exclusively; ffmpeg writes it as fd 3
	size     image.Point
	enc      *encoder // nil until the size is known
	started  bool     // a frame was written; t0 is set
	t0       time.Time
	pending  []byte // newest frame as I420, not yet handed to the encoder
	slot     int64  // output frame index of pending
	conv     gocv.Mat
	scaled   gocv.Mat
	yuv      gocv.Mat
	closed   bool
	closeErr error
}

// NewRecorder creates path, which must not exist (it never overwrites: the
// error then matches fs.ErrExist; see TimestampedPath), and prepares to
// record into it. ffmpeg starts at once if opts gives a size, otherwise with
// the first frame.
//
// The default preset is x264's cheapest: recording shares two cores with the
// try-on model, and an encoder slower than real time makes Write block and
// leaves more of the clip in this process's queue, where a crash loses it.
// Measured per 1280x720 frame on this kind of machine: ultrafast 7 ms,
// superfast 16 ms, veryfast 22 ms of CPU. CRF 20 makes up some of the
// quality.
func NewRecorder(path string, opts RecorderOptions) (*Recorder, error) {
	if opts.FPS <= 0 {
		opts.FPS = defaultFPS
	}
	if opts.Preset == "" {
		opts.Preset = "ultrafast"
	}
	if opts.CRF <= 0 {
		opts.CRF = 20
	}
	if opts.FFmpeg == "" {
		opts.FFmpeg = "ffmpeg"
	}
	bin, err := exec.LookPath(opts.FFmpeg)
	if err != nil {
		return nil, &Error{Op: "record", Path: path, Err: fmt.Errorf("ffmpeg is needed to record: %w", err)}
	}
	if (opts.Width > 0) != (opts.Height > 0) || (opts.Width > 0 && (opts.Width < 2 || opts.Height < 2)) {
		return nil, &Error{Op: "record", Path: path, Err: fmt.Errorf("invalid size %dx%d", opts.Width, opts.Height)}
	}
	f, err := openOutput(path)
	if err != nil {
		return nil, &Error{Op: "record", Path: path, Err: errno(err)}
	}
	// Held by this process and ffmpeg (which shares the open file) until the
	// clip is finished: RecoverPartials leaves a locked partial clip alone.
	if err := fsutil.LockFile(f); err != nil {
		f.Close()
		os.Remove(path)
		return nil, &Error{Op: "record", Path: path, Err: err}
	}
	r := &Recorder{path: path, bin: bin, opts: opts, f: f, conv: gocv.NewMat(), scaled: gocv.NewMat(), yuv: gocv.NewMat()}
	if opts.Width > 0 {
		r.size = evenSize(opts.Width, opts.Height)
		if err := r.startEncoder(); err != nil {
			return nil, errors.Join(err, r.discard())
		}
	}
	return r, nil
}

// openOutput creates the clip file; tests replace it to inject write errors.
var openOutput = func(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644) // read back by trimToFragments
}

func evenSize(w, h int) image.Point { return image.Pt(w&^1, h&^1) }

// Path returns the file being recorded.
func (r *Recorder) Path() string { return r.path }

func (r *Recorder) startEncoder() error {
	fps := strconv.FormatFloat(r.opts.FPS, 'f', -1, 64)
	gop := max(1, int(math.Round(r.opts.FPS))) // a keyframe, hence a fragment, every second
	args := []string{
		"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
		// Frames arrive as I420 made by OpenCV (BT.601, limited range): half
		// the bytes of BGR through the pipe, and no swscale in ffmpeg, whose
		// default BGR conversion also darkens by a few levels.
		"-f", "rawvideo", "-pix_fmt", "yuv420p",
		"-video_size", fmt.Sprintf("%dx%d", r.size.X, r.size.Y),
		"-framerate", fps, "-i", "pipe:0",
		"-an", "-c:v", "libx264", "-preset", r.opts.Preset, "-crf", strconv.Itoa(r.opts.CRF),
		"-pix_fmt", "yuv420p", "-g", strconv.Itoa(gop),
		// Say so in the stream, or players guess BT.709 for HD sizes.
		"-colorspace", "smpte170m", "-color_primaries", "smpte170m", "-color_trc", "smpte170m", "-color_range", "tv",
		"-movflags", "+frag_keyframe+empty_moov+default_base_moof",
		"-flush_packets", "1", // each fragment reaches the file when it is complete
		"-f", "mp4", "pipe:3",
	}
	enc, err := startEncoder(r.bin, args, r.f, r.size.X*r.size.Y*3/2)
	if err != nil {
		return &Error{Op: "record", Path: r.path, Err: err}
	}
	r.enc = enc
	return nil
}

// Write adds img, taken at time t, to the clip. It does not take ownership
// of img, which may be BGR, BGRA or gray, of any size (it is resized). t
// should come from time.Now(). After a failure (full disk), Write returns
// the same error every time; the caller can keep running and should Close.
func (r *Recorder) Write(img gocv.Mat, t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return &Error{Op: "record", Path: r.path, Reason: ErrClosed}
	}
	if r.enc != nil {
		if err := r.enc.failure(); err != nil {
			return &Error{Op: "record", Path: r.path, Err: err}
		}
	}
	if img.Empty() {
		return &Error{Op: "record", Path: r.path, Err: errors.New("empty frame")}
	}
	switch img.Type() {
	case gocv.MatTypeCV8UC3, gocv.MatTypeCV8UC4, gocv.MatTypeCV8UC1:
	default:
		return &Error{Op: "record", Path: r.path, Err: fmt.Errorf("unsupported pixel type %v", img.Type())}
	}
	if r.enc == nil {
		r.size = evenSize(img.Cols(), img.Rows())
		if r.size.X < 2 || r.size.Y < 2 {
			return &Error{Op: "record", Path: r.path, Err: fmt.Errorf("frame too small: %dx%d", img.Cols(), img.Rows())}
		}
		if err := r.startEncoder(); err != nil {
			return err
		}
	}
	if !r.started {
		r.started, r.t0 = true, t
	}
	slot := max(r.slotAt(t), r.slot) // a time before the previous frame's replaces it
	if r.pending != nil && slot > r.slot {
		r.enc.jobs <- job{buf: r.pending, count: slot - r.slot}
		r.pending = nil
	}
	if r.pending == nil {
		r.pending = r.enc.buffer()
	}
	r.slot = slot
	if err := r.fill(r.pending, img); err != nil {
		return &Error{Op: "record", Path: r.path, Err: err}
	}
	return nil
}

// slotAt is the output frame that a frame taken at t falls into.
func (r *Recorder) slotAt(t time.Time) int64 {
	d := t.Sub(r.t0)
	if d <= 0 {
		return 0
	}
	// The microsecond absorbs rounding: frame times k*time.Duration(1s/30)
	// must land in slot k, not k-1.
	return int64(math.Floor((d.Seconds() + 1e-6) * r.opts.FPS))
}

// fill converts img to I420 at the output size into buf.
func (r *Recorder) fill(buf []byte, img gocv.Mat) error {
	src := img
	if img.Type() == gocv.MatTypeCV8UC1 {
		gocv.CvtColor(img, &r.conv, gocv.ColorGrayToBGR)
		src = r.conv
	}
	if src.Cols() != r.size.X || src.Rows() != r.size.Y {
		gocv.Resize(src, &r.scaled, r.size, 0, 0, gocv.InterpolationLinear)
		src = r.scaled
	}
	code := gocv.ColorBGRToYUVI420
	if src.Channels() == 4 {
		code = gocv.ColorBGRAToYUVI420
	}
	gocv.CvtColor(src, &r.yuv, code) // a (h*3/2) x w single-channel image
	data, err := r.yuv.DataPtrUint8()
	if err != nil {
		return err
	}
	if len(data) != len(buf) {
		return fmt.Errorf("frame has %d bytes; want %d", len(data), len(buf))
	}
	copy(buf, data)
	return nil
}

// Close finishes the clip and waits for ffmpeg to exit. It is idempotent:
// later calls return the first call's result. A recorder closed before any
// frame removes its file and returns ErrNoFrames; after a failure, a file
// with no complete fragment is removed too.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.closeErr
	}
	r.closed = true
	r.closeErr = r.finish()
	return r.closeErr
}

func (r *Recorder) finish() error {
	var encErr error
	hasMedia := r.started
	if r.enc != nil {
		if r.pending != nil && r.enc.failure() == nil {
			r.enc.jobs <- job{buf: r.pending, count: 1}
		}
		r.pending = nil
		close(r.enc.jobs)
		<-r.enc.done
		encErr = r.enc.failure()
		hasMedia = hasMedia && r.enc.hasMedia
	}
	r.closeMats()
	if !r.started {
		return errors.Join(&Error{Op: "record", Path: r.path, Reason: ErrNoFrames}, r.discard())
	}
	var errs []error
	if encErr != nil {
		errs = append(errs, &Error{Op: "record", Path: r.path, Err: encErr})
	}
	if !hasMedia {
		return errors.Join(append(errs, r.discard())...)
	}
	// After an encoder failure Sync fails for the same reason; say it once.
	if err := r.f.Sync(); err != nil && encErr == nil {
		errs = append(errs, &Error{Op: "record", Path: r.path, Err: errno(err)})
	}
	if err := r.rescueIfUnlinked(); err != nil {
		errs = append(errs, err)
	}
	if err := r.f.Close(); err != nil {
		errs = append(errs, &Error{Op: "record", Path: r.path, Err: errno(err)})
	}
	return errors.Join(errs...)
}

// ErrRescued: the clip's file or folder was deleted while recording; what
// was recorded was written again at the Recorder's Path (the folder is
// created again). Close returns it wrapped in an *Error that says so.
var ErrRescued = errors.New("its folder was deleted while recording; the clip was saved again")

// rescueIfUnlinked writes the clip out again if its file no longer is at
// r.path (the folder or the file was deleted while ffmpeg wrote it): the
// data lives on in the open file until it is closed, so it is copied to
// r.path (creating the folder again) or, if that name is taken by another
// file, to "NAME (recovered).mp4" beside it; r.path follows.
func (r *Recorder) rescueIfUnlinked() error {
	st, err := r.f.Stat()
	if err != nil {
		return &Error{Op: "record", Path: r.path, Err: errno(err)}
	}
	if cur, err := os.Stat(r.path); err == nil && os.SameFile(st, cur) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(r.path), 0o755); err != nil {
		return &Error{Op: "record", Path: r.path, Err: fmt.Errorf("the clip was deleted while recording and cannot be saved again: %w", errno(err))}
	}
	dst, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	path := r.path
	if errors.Is(err, fs.ErrExist) {
		ext := filepath.Ext(r.path)
		path = strings.TrimSuffix(r.path, ext) + " (recovered)" + ext
		dst, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	}
	if err != nil {
		return &Error{Op: "record", Path: r.path, Err: fmt.Errorf("the clip was deleted while recording and cannot be saved again: %w", errno(err))}
	}
	_, err = io.Copy(dst, io.NewSectionReader(r.f, 0, st.Size()))
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return &Error{Op: "record", Path: r.path, Err: fmt.Errorf("the clip was deleted while recording and cannot be saved again: %w", errno(err))}
	}
	r.path = path
	return &Error{Op: "record", Path: path, Reason: ErrRescued}
}

// discard closes and removes the output file: nothing playable is in it.
// The encoder, if any, has finished.
func (r *Recorder) discard() error {
	r.closeMats()
	var errs []error
	if err := r.f.Close(); err != nil {
		errs = append(errs, &Error{Op: "record", Path: r.path, Err: errno(err)})
	}
	if err := os.Remove(r.path); err != nil {
		errs = append(errs, &Error{Op: "remove", Path: r.path, Err: errno(err)})
	}
	return errors.Join(errs...)
}

func (r *Recorder) closeMats() {
	r.conv.Close()
	r.scaled.Close()
	r.yuv.Close()
}

// job asks the encoder goroutine to write buf count times.
type job struct {
	buf   []byte
	count int64
}

// encoder owns the ffmpeg process and the goroutine that feeds it.
type encoder struct {
	cmd       *exec.Cmd
	stdin     *os.File // write end of ffmpeg's input pipe
	out       *os.File // the clip, for cutting it back after a failure
	stderr    tailBuffer
	frameSize int

	jobs chan job    // closed by the Recorder to finish
	free chan []byte // frame buffers to reuse
	done chan struct{}

	exited  chan struct{} // closed when ffmpeg has exited; waitErr is then set
	waitErr error

	mu       sync.Mutex
	err      error // first failure, as a cause for *Error
	finished bool
	hasMedia bool // the clip holds at least one complete fragment
}

// startEncoder starts ffmpeg with args, its input a new pipe and its fd 3
// the clip, and the goroutine that feeds it.
func startEncoder(bin string, args []string, out *os.File, frameSize int) (*encoder, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	// The pipe keeps its default 64 KiB: a larger one measured no faster.
	e := &encoder{
		stdin:     pw,
		out:       out,
		frameSize: frameSize,
		jobs:      make(chan job, recordQueue),
		free:      make(chan []byte, recordQueue+2),
		done:      make(chan struct{}),
		exited:    make(chan struct{}),
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin = pr
	cmd.ExtraFiles = []*os.File{out}
	cmd.Stderr = &e.stderr
	cmd.Env = append(os.Environ(), "LC_ALL=C") // English strerror texts, see ffmpegError
	// ffmpeg outlives us by no more than it takes to finish the file: it
	// exits at the end of its input, which comes when this process closes
	// the pipe or dies (pw is close-on-exec, so no other child holds it).
	//
	// No Pdeathsig, deliberately. In Go it fires when the forking thread
	// exits, and when a killed process's threads die one after another the
	// child is handed from thread to thread and gets the signal again each
	// time (golang/go#27505). ffmpeg takes a second SIGTERM as "abort all
	// I/O" and a fourth as "exit now": measured here, SIGKILL of a recording
	// process with Pdeathsig SIGTERM lost 0.5 to 0.7 s (the last fragment),
	// without it nothing. SIGKILL as Pdeathsig would lose the same.
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true, // a Ctrl-C on the terminal is for us to handle, not ffmpeg
	}
	e.cmd = cmd
	err = cmd.Start()
	prErr := pr.Close() // ffmpeg has its own copy
	if err != nil {
		return nil, errors.Join(err, pw.Close())
	}
	go func() {
		e.waitErr = cmd.Wait()
		close(e.exited)
	}()
	if prErr != nil {
		e.stdin.Close()
		<-e.exited
		return nil, prErr
	}
	go e.feed()
	return e, nil
}

func (e *encoder) buffer() []byte {
	select {
	case b := <-e.free:
		return b
	default:
		return make([]byte, e.frameSize)
	}
}

func (e *encoder) failure() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// feed writes jobs to ffmpeg until jobs is closed, then finishes the clip.
// After a failure it keeps draining jobs so that Write never blocks.
func (e *encoder) feed() {
	defer close(e.done)
	for j := range e.jobs {
		if e.failure() == nil {
			for i := int64(0); i < j.count; i++ {
				if _, err := e.stdin.Write(j.buf); err != nil {
					e.finish(err)
					break
				}
			}
		}
		select {
		case e.free <- j.buf:
		default:
		}
	}
	e.finish(nil)
}

// finish closes ffmpeg's input, waits for it to exit (killing it after
// finishTimeout) and records the outcome. On failure it cuts the clip back
// to its last complete fragment.
func (e *encoder) finish(writeErr error) {
	e.mu.Lock()
	finished := e.finished
	e.finished = true
	e.mu.Unlock()
	if finished {
		return
	}
	closeErr := e.stdin.Close()
	t := time.NewTimer(finishTimeout)
	select {
	case <-e.exited:
		t.Stop()
	case <-t.C:
		// Kill errors only say it already exited; Wait reports the outcome.
		_ = e.cmd.Process.Kill()
		<-e.exited
	}
	err := writeErr
	if err == nil {
		err = closeErr
	}
	if e.waitErr != nil || err != nil {
		err = ffmpegError(e.waitErr, err, e.stderr.String())
	}
	hasMedia := true
	if err != nil {
		var trimErr error
		hasMedia, trimErr = trimToFragments(e.out)
		err = errors.Join(err, trimErr)
	}
	e.mu.Lock()
	e.err, e.hasMedia = err, hasMedia
	e.mu.Unlock()
}

// ffmpegError turns ffmpeg's exit into the cause a user can act on: the
// errno it printed (it prints strerror texts, in English under LC_ALL=C),
// or its last line of output.
func ffmpegError(waitErr, ioErr error, stderr string) error {
	low := strings.ToLower(stderr)
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG,
		syscall.EROFS, syscall.EACCES, syscall.EIO} {
		if strings.Contains(low, errno.Error()) {
			return errno
		}
	}
	cause := waitErr
	if cause == nil {
		cause = ioErr
	}
	if line := lastLine(stderr); line != "" {
		return fmt.Errorf("ffmpeg: %s: %w", line, cause)
	}
	return fmt.Errorf("ffmpeg: %w", cause)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

// trimToFragments cuts f after its last complete top-level MP4 box that is
// not a lone moof (a fragment is a moof and the mdat after it), so that a
// half-written fragment does not follow the playable ones. It reports
// whether a complete mdat remains.
func trimToFragments(f *os.File) (hasMedia bool, err error) {
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if !st.Mode().IsRegular() {
		return false, nil
	}
	size := st.Size()
	var off, good int64
	var hdr [16]byte
	for off+8 <= size {
		if _, err := f.ReadAt(hdr[:8], off); err != nil {
			return false, err
		}
		box := int64(binary.BigEndian.Uint32(hdr[:4]))
		head := int64(8)
		if box == 1 { // 64-bit size follows the type
			if off+16 > size {
				break
			}
			if _, err := f.ReadAt(hdr[8:16], off+8); err != nil {
				return false, err
			}
			box, head = int64(binary.BigEndian.Uint64(hdr[8:16])), 16
		}
		if box < head || off+box > size { // size 0 ("to the end") included: cannot be checked
			break
		}
		off += box
		switch string(hdr[4:8]) {
		case "moof":
		case "mdat":
			good, hasMedia = off, true
		default:
			good = off
		}
	}
	if good < size {
		if err := f.Truncate(good); err != nil {
			return hasMedia, err
		}
	}
	return hasMedia, nil
}

// tailBuffer keeps the last 4 KiB written to it: ffmpeg's error output.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	const keep = 4 << 10
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > keep {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-keep:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
