package live

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"mgvton/capture"
	"mgvton/inference"
	"mgvton/internal/fsutil"
	"mgvton/ui"
)

// Conditions a caller of Session (and Engine) can branch on with errors.Is.
var (
	// ErrNotRecording is returned by StopRecording when no clip is being
	// recorded.
	ErrNotRecording = errors.New("not recording")
	// ErrAlreadyRecording is returned by StartRecording while a clip is
	// being recorded.
	ErrAlreadyRecording = errors.New("already recording")
	// ErrNoPicture is returned by Snapshot before any result was shown.
	ErrNoPicture = errors.New("nothing to save yet: no frame has been shown")
)

// stallAfter without a frame from the source being read makes the session
// report a stall (StallError), once per stall; stallFrames frame times for
// a source slower than that (a slide show, a time-lapse).
const (
	stallAfter  = 5 * time.Second
	stallFrames = 3
)

// stallLimit is the time without a frame that is a stall for a source
// delivering fps frames a second.
func stallLimit(fps float64) time.Duration {
	if fps > 0 {
		return max(stallAfter, time.Duration(stallFrames*float64(time.Second)/fps))
	}
	return stallAfter
}

// StallError is reported (Errors, OnError) when the source read since Open
// has delivered no frame for a while without ending or failing: a webcam
// that froze, a video on a hung mount, a pipe whose writer stopped. It
// matches capture.ErrStalled. Nothing else changes: the stream goes on when
// frames come again, and picking another source works meanwhile.
type StallError struct {
	Source string        // the source's name (capture.Info.Name)
	For    time.Duration // time since its last frame (or since Open)
}

func (e *StallError) Error() string {
	return fmt.Sprintf("no frames from %s for %d s; the picture comes back when it sends frames again",
		e.Source, int(e.For.Round(time.Second)/time.Second))
}

// Is makes errors.Is(err, capture.ErrStalled) true.
func (e *StallError) Is(target error) bool { return target == capture.ErrStalled }

// EndError is reported when the source read since Open ended (a pipe whose
// writer closed it; files and folders opened by the app loop). It matches
// io.EOF.
type EndError struct{ Source string }

func (e *EndError) Error() string { return "no more frames: " + e.Source + " ended" }

// Unwrap returns io.EOF.
func (e *EndError) Unwrap() error { return io.EOF }

// SessionOptions configure a Session.
type SessionOptions struct {
	// Display makes the session convert every result for a window and
	// deliver it on Frames (the app, and bench, which measures that path).
	// Off (record), results only reach the recorder and the snapshot.
	Display bool
	// SideBySide records the camera picture beside the try-on.
	SideBySide bool
	// OnError, when set, is called with every streaming problem (besides
	// Errors), from the goroutine that met it.
	OnError func(error)
	Log     *slog.Logger
}

// Session is one live stream: a frame source feeding an inference
// pipeline, whose results go to the sinks: the display (Frames), the clip
// recorder and the snapshot. The app's Engine, `mgvton record` and
// `mgvton bench` all run their streams through a Session, so the pipeline
// is started in one place (SetPipeline) and every caller measures and
// shows the same path.
//
// Frame ownership: a source frame belongs to the pipeline from Submit on;
// a pipeline result belongs to the session, which hands it to the recorder
// (which copies what it needs), converts it for the display into pooled
// RGBA images (the window gives them back through ui.Frame.Release), and
// keeps its try-on picture as the snapshot until the next result replaces
// it: nothing is copied for a snapshot until Snapshot is called.
type Session struct {
	opts   SessionOptions
	log    *slog.Logger
	frames chan ui.Frame
	errs   chan error
	mirror atomic.Bool
	pool   *rgbaPool
	// display holds the largest camera and try-on picture sizes the window
	// shows (SetDisplaySize); zero: full size.
	display atomic.Pointer[[2]image.Point]
	// recycler is the source being fed, when it takes frames back.
	recycler atomic.Pointer[recyclerRef]

	// life serialises SetPipeline, Open and Close, so that nothing starts
	// a goroutine after Close stopped them.
	life sync.Mutex

	mu        sync.Mutex // guards the fields below
	pipe      *inference.Pipeline
	consumer  sync.WaitGroup // the goroutine reading pipe's results
	src       capture.Source
	srcCancel context.CancelFunc
	reader    sync.WaitGroup

	rec struct {
		sync.Mutex
		r   *capture.Recorder
		err error    // first write error of the current recording
		n   int64    // frames written to the current (or last) clip
		sbs gocv.Mat // side-by-side buffer, reused
	}
	snap struct {
		sync.Mutex
		img gocv.Mat // try-on picture of the latest result (owned)
		ok  bool
	}
	closed atomic.Bool
	// epoch and lastFrame (time since epoch) tell the stall watchdog when
	// Feed last got a frame.
	epoch     time.Time
	lastFrame atomic.Int64
}

// NewSession makes a session with no source and no pipeline.
func NewSession(opts SessionOptions) *Session {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Session{opts: opts, log: opts.Log, frames: make(chan ui.Frame, 1),
		errs: make(chan error, 8), pool: newRGBAPool(8), epoch: time.Now()}
	s.rec.sbs = gocv.NewMat()
	return s
}

// Frames delivers the frames to show (latest value), with Display on. It
// is closed by Close.
func (s *Session) Frames() <-chan ui.Frame { return s.frames }

// Errors reports streaming problems without ever blocking the stream.
func (s *Session) Errors() <-chan error { return s.errs }

// SetDisplaySize bounds the pictures delivered on Frames from the next
// frame on: camera pictures fit in camera, try-on pictures in tryOn
// (aspect kept, never scaled up; a camera picture shown in both panes, as
// before the first try-on, fits in the larger). Only the display is
// scaled: the recorder and snapshots keep the frames' full size.
func (s *Session) SetDisplaySize(camera, tryOn image.Point) {
	s.display.Store(&[2]image.Point{camera, tryOn})
}

// displayBoxes returns the bounds for a camera picture and a try-on
// picture; alone is set when the camera picture fills both panes.
func (s *Session) displayBoxes(alone bool) (camera, tryOn image.Point) {
	d := s.display.Load()
	if d == nil {
		return image.Point{}, image.Point{}
	}
	camera, tryOn = d[0], d[1]
	if alone {
		camera = image.Pt(max(camera.X, tryOn.X), max(camera.Y, tryOn.Y))
	}
	return camera, tryOn
}

// SetMirror flips source frames horizontally from the next frame on.
func (s *Session) SetMirror(on bool) { s.mirror.Store(on) }

// Report passes a problem to OnError and Errors, dropping it when nobody
// reads Errors.
func (s *Session) Report(err error) {
	s.log.Warn("stream", "err", err)
	if s.opts.OnError != nil {
		s.opts.OnError(err)
	}
	select {
	case s.errs <- err:
	default:
	}
}

// SetPipeline starts p (made, not yet started, by the caller, who keeps
// ownership of its model) and sends the next frames through it. The
// previous pipeline, if any, is closed after p took over. A nil p closes
// the current pipeline: frames then go to the display unchanged.
func (s *Session) SetPipeline(p *inference.Pipeline) error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed.Load() && p != nil {
		p.Close()
		return inference.ErrClosed
	}
	if p != nil {
		if err := p.Start(context.Background()); err != nil {
			p.Close()
			return err
		}
	}
	s.mu.Lock()
	old := s.pipe
	s.pipe = p
	s.mu.Unlock()
	if old != nil {
		old.Close() // ends the old consumer
	}
	s.consumer.Wait()
	if p != nil {
		s.consumer.Add(1)
		go func() { defer s.consumer.Done(); s.consume(p) }()
	}
	return nil
}

// Pipeline returns the current pipeline, or nil.
func (s *Session) Pipeline() *inference.Pipeline {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pipe
}

// StopPipeline closes the current pipeline and waits until every result
// it delivered has been through the sinks.
func (s *Session) StopPipeline() { s.SetPipeline(nil) }

// Open starts reading src on a goroutine of the session, replacing the
// source being read; the session owns src from now on. Read errors other
// than a close are reported.
func (s *Session) Open(src capture.Source) {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed.Load() {
		src.Close()
		return
	}
	s.CloseSource()
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.src, s.srcCancel = src, cancel
	s.reader.Add(2)
	s.mu.Unlock()
	info := src.Info()
	s.markFrame()
	fed := make(chan struct{})
	go func() {
		defer s.reader.Done()
		defer close(fed)
		err := s.Feed(ctx, src, 0)
		switch {
		case err == nil || ctx.Err() != nil || errors.Is(err, capture.ErrClosed):
		case errors.Is(err, io.EOF):
			s.Report(&EndError{Source: info.Name})
		default:
			s.Report(err)
		}
	}()
	go func() { defer s.reader.Done(); s.watch(ctx, fed, info.Name, stallLimit(info.FPS)) }()
}

// markFrame notes that a frame came from the source now.
func (s *Session) markFrame() { s.lastFrame.Store(int64(time.Since(s.epoch))) }

// sinceFrame returns the time since the last markFrame.
func (s *Session) sinceFrame() time.Duration {
	return time.Since(s.epoch) - time.Duration(s.lastFrame.Load())
}

// watch is the stall watchdog of a source read by Open: when no frame came
// for limit, it reports a StallError (once until frames come again).
// It needs no cooperation from the source, whose Read may be blocked in C
// for good; it ends when the reader does or the source is closed.
func (s *Session) watch(ctx context.Context, fed <-chan struct{}, name string, limit time.Duration) {
	t := time.NewTicker(limit / 10)
	defer t.Stop()
	stalled := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-fed:
			return
		case <-t.C:
		}
		since := s.sinceFrame()
		switch {
		case !stalled && since >= limit:
			stalled = true
			s.Report(&StallError{Source: name, For: since})
		case stalled && since < limit:
			stalled = false
			s.log.Info("stream: frames again", "source", name)
		}
	}
}

// CloseSource stops the reader started by Open and closes its source.
func (s *Session) CloseSource() {
	s.mu.Lock()
	src, cancel := s.src, s.srcCancel
	s.src, s.srcCancel = nil, nil
	s.mu.Unlock()
	if src == nil {
		return
	}
	cancel()
	src.Close() // unblocks Read
	s.reader.Wait()
}

// Feed reads frames from src into the current pipeline (or, while there is
// none, straight to the display) on the caller's goroutine, until ctx is
// done, n frames were read (n > 0) or Read fails; it returns Read's error.
// The caller keeps ownership of src and does not call Close while Feed
// runs.
func (s *Session) Feed(ctx context.Context, src capture.Source, n int64) error {
	if r, ok := src.(capture.Recycler); ok {
		ref := &recyclerRef{r}
		s.recycler.Store(ref)
		defer s.recycler.CompareAndSwap(ref, nil)
	}
	for i := int64(0); ctx.Err() == nil && (n <= 0 || i < n); i++ {
		f, err := src.Read()
		if err != nil {
			return err
		}
		s.markFrame()
		if ctx.Err() != nil { // a read that returned after ctx ended (CloseSource)
			f.Mat.Close()
			return nil
		}
		if s.mirror.Load() {
			gocv.Flip(f.Mat, &f.Mat, 1)
		}
		if p := s.Pipeline(); p != nil {
			p.Submit(inference.Frame{Mat: f.Mat, Time: f.Time, Seq: f.Seq})
			continue
		}
		if !s.opts.Display {
			f.Mat.Close()
			continue
		}
		box, _ := s.displayBoxes(true)
		img := s.pool.convert(f.Mat, box)
		f.Mat.Close()
		s.publish(ui.Frame{Camera: img, Stats: ui.Stats{PersonFound: true}, Release: func() { s.pool.put(img) }})
	}
	return nil
}

// publish offers a frame to the window, replacing (and releasing) one it
// has not taken.
func (s *Session) publish(f ui.Frame) {
	for {
		select {
		case s.frames <- f:
			return
		default:
		}
		select {
		case old := <-s.frames:
			if old.Release != nil {
				old.Release()
			}
		default:
		}
	}
}

// consume passes every result of p through the sinks, until p closes.
func (s *Session) consume(p *inference.Pipeline) {
	for res := range p.Results() {
		s.deliver(res, p.Stats())
	}
}

// deliver hands one result to the recorder, the display and the snapshot,
// and takes ownership of it.
func (s *Session) deliver(res inference.Result, st inference.Stats) {
	s.record(res)
	if s.opts.Display {
		camBox, tryBox := s.displayBoxes(!res.Applied)
		cam := s.pool.convert(res.Frame, camBox)
		frame := ui.Frame{
			Camera: cam,
			Stats: ui.Stats{
				DisplayFPS:  st.Display.FPS,
				WarpFPS:     st.Warp.FPS,
				LatencyMS:   float64(st.EndToEnd.LatencyP50.Microseconds()) / 1000,
				Dropped:     st.Dropped(),
				PersonFound: res.Person,
				PersonMS:    float64(st.Person.LatencyP50.Microseconds()) / 1000,
			},
		}
		if res.Applied {
			try := s.pool.convert(res.TryOn, tryBox)
			frame.TryOn = try
			frame.Release = func() { s.pool.put(cam); s.pool.put(try) }
		} else {
			frame.Release = func() { s.pool.put(cam) }
		}
		s.publish(frame)
	}
	// The snapshot keeps the try-on picture itself; the rest is released.
	// An applied result's frame shares its pixels with nothing else (the
	// try-on is a copy): the source decodes into it again.
	tryOn := res.TryOn
	res.TryOn = gocv.Mat{}
	if ref := s.recycler.Load(); ref != nil && res.Applied {
		ref.r.Recycle(res.Frame)
	} else {
		res.Frame.Close()
	}
	res.Body.Close()
	res.Masks.Close()
	s.snap.Lock()
	if s.snap.ok {
		s.snap.img.Close()
	}
	s.snap.img, s.snap.ok = tryOn, true
	s.snap.Unlock()
}

// record writes a result to the clip being recorded, if any.
func (s *Session) record(res inference.Result) {
	s.rec.Lock()
	defer s.rec.Unlock()
	if s.rec.r == nil || s.rec.err != nil {
		return
	}
	img := res.TryOn
	if s.opts.SideBySide {
		capture.SideBySide(&s.rec.sbs, res.Frame, res.TryOn)
		img = s.rec.sbs
	}
	if err := s.rec.r.Write(img, res.Time); err != nil {
		s.rec.err = err
		s.Report(fmt.Errorf("recording stopped: %w", err))
		return
	}
	s.rec.n++
}

// RecordingErr returns the write error that stopped the current recording,
// or nil.
func (s *Session) RecordingErr() error {
	s.rec.Lock()
	defer s.rec.Unlock()
	return s.rec.err
}

// RecordedFrames returns how many frames the current (or last) clip got.
func (s *Session) RecordedFrames() int64 {
	s.rec.Lock()
	defer s.rec.Unlock()
	return s.rec.n
}

// StartRecording starts a clip at path (which must not exist).
func (s *Session) StartRecording(path string) error {
	s.rec.Lock()
	defer s.rec.Unlock()
	if s.rec.r != nil {
		return ErrAlreadyRecording
	}
	r, err := capture.NewRecorder(path, capture.RecorderOptions{FPS: 30})
	if err != nil {
		return err
	}
	s.rec.r, s.rec.err, s.rec.n = r, nil, 0
	return nil
}

// StopRecording finishes the clip. A write error during the recording is
// returned with the path: what was written before it stays playable. The
// path is the recorder's, which differs from the one asked for when the
// clip had to be rescued (capture.ErrRescued).
func (s *Session) StopRecording() (string, error) {
	s.rec.Lock()
	r, werr := s.rec.r, s.rec.err
	s.rec.r, s.rec.err = nil, nil
	s.rec.Unlock()
	if r == nil {
		return "", ErrNotRecording
	}
	err := r.Close()
	if werr != nil {
		err = werr
	}
	return r.Path(), err
}

// Snapshot writes the latest result's try-on picture as PNG.
func (s *Session) Snapshot(path string) error {
	s.snap.Lock()
	if !s.snap.ok {
		s.snap.Unlock()
		return ErrNoPicture
	}
	buf, err := gocv.IMEncode(gocv.PNGFileExt, s.snap.img)
	s.snap.Unlock()
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	defer buf.Close()
	return fsutil.WriteFile(path, buf.GetBytes(), 0o644)
}

// Close stops the reader, the recording and the pipeline, releases what
// the session holds and closes Frames. It is idempotent; the pipeline's
// model is not closed.
func (s *Session) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.life.Lock() // waits for a SetPipeline or Open in progress
	defer s.life.Unlock()
	s.CloseSource()
	if _, err := s.StopRecording(); err != nil && !errors.Is(err, ErrNotRecording) {
		s.log.Warn("stop recording", "err", err)
	}
	s.mu.Lock()
	p := s.pipe
	s.pipe = nil
	s.mu.Unlock()
	if p != nil {
		p.Close()
	}
	s.consumer.Wait()
	s.snap.Lock()
	if s.snap.ok {
		s.snap.img.Close()
		s.snap.ok = false
	}
	s.snap.Unlock()
	s.rec.Lock()
	s.rec.sbs.Close()
	s.rec.Unlock()
	s.pool.close()
	close(s.frames)
	return nil
}

type recyclerRef struct{ r capture.Recycler }

// rgbaPool converts BGR Mats into *image.RGBA taken from a small free list
// (Effective Go's leaky buffer): the window hands each image back through
// ui.Frame.Release and the next conversion of that size reuses it; an
// image never handed back is simply collected, and one handed back to a
// full list is dropped. The BGR->RGBA pass (and the scaling down for a
// small pane) goes through reused Mats.
type rgbaPool struct {
	free   chan *image.RGBA
	mu     sync.Mutex // guards conv, small and half (the display and the reader may both convert)
	conv   gocv.Mat
	small  gocv.Mat
	half   gocv.Mat // twice the size of small, on the way down
	closed bool
}

func newRGBAPool(n int) *rgbaPool {
	return &rgbaPool{free: make(chan *image.RGBA, n), conv: gocv.NewMat(), small: gocv.NewMat(), half: gocv.NewMat()}
}

// fitSize is the size of a w x h picture scaled down to fit in box,
// aspect kept; w x h itself when it fits already or box is zero.
func fitSize(w, h int, box image.Point) image.Point {
	if box.X <= 0 || box.Y <= 0 || (w <= box.X && h <= box.Y) {
		return image.Pt(w, h)
	}
	s := min(float64(box.X)/float64(w), float64(box.Y)/float64(h))
	return image.Pt(max(1, int(math.Round(float64(w)*s))), max(1, int(math.Round(float64(h)*s))))
}

// get returns an image of w x h, reused when one of that size is free.
func (p *rgbaPool) get(w, h int) *image.RGBA {
	select {
	case img := <-p.free:
		if img.Rect.Dx() == w && img.Rect.Dy() == h {
			return img
		}
	default:
	}
	return image.NewRGBA(image.Rect(0, 0, w, h))
}

// put gives an image back; the caller no longer touches it.
func (p *rgbaPool) put(img *image.RGBA) {
	select {
	case p.free <- img:
	default:
	}
}

// convert returns m (BGR 8UC3) as an RGBA image from the pool, scaled
// down (area averaging) to fit in box when it is larger.
func (p *rgbaPool) convert(m gocv.Mat, box image.Point) *image.RGBA {
	sz := fitSize(m.Cols(), m.Rows(), box)
	img := p.get(sz.X, sz.Y)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return img
	}
	if sz.X != m.Cols() || sz.Y != m.Rows() {
		m = p.shrink(m, sz)
	}
	gocv.CvtColor(m, &p.conv, gocv.ColorBGRToRGBA)
	if pix, err := p.conv.DataPtrUint8(); err == nil {
		copy(img.Pix, pix)
	}
	return img
}

// shrink scales m down to sz into p.small (or p.half), averaging: area
// averaging costs ~2.4 ms for 1280x720 to 459x258 at such an uneven
// ratio, so a shrink by more than 2 first goes bilinearly to twice the
// size and then averages each 2x2 block (OpenCV's fast path for a whole
// ratio): ~0.5 ms, and no aliasing of fine stripes. Called with p.mu held.
func (p *rgbaPool) shrink(m gocv.Mat, sz image.Point) gocv.Mat {
	if m.Cols() > 2*sz.X && m.Rows() > 2*sz.Y {
		gocv.Resize(m, &p.half, image.Pt(2*sz.X, 2*sz.Y), 0, 0, gocv.InterpolationLinear)
		m = p.half
	}
	gocv.Resize(m, &p.small, sz, 0, 0, gocv.InterpolationArea)
	return p.small
}

// close releases the conversion Mat; convert then returns blank images.
func (p *rgbaPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		p.conv.Close()
		p.small.Close()
		p.half.Close()
	}
}
