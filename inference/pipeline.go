package inference

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"mgvton/capture"
)

// Frame is a picture submitted to a Pipeline: the frame a capture.Source
// reads, passed on as it is (one frame type from source to pipeline). The
// pipeline owns Mat (BGR 8UC3) from Submit or Process on, and closes it.
// Time is the capture time, for end-to-end latency; PTS times the keypoint
// filter of offline runs, which process frames slower or faster than they
// were shot (zero: the wall clock).
type Frame = capture.Frame

// Result is one processed frame. The receiver owns Frame and TryOn and must
// Close both.
type Result struct {
	// Frame is the input frame, unchanged.
	Frame gocv.Mat
	// TryOn is a copy of the frame with the try-on pasted into Box when
	// Applied; otherwise (nobody found, no warp result yet) it shares
	// Frame's pixels (a second header on the same data, closed on its own):
	// read it, do not write into it.
	TryOn gocv.Mat
	// Box is the person crop in frame pixels (empty when Person is false).
	Box image.Rectangle
	// Person reports whether a person crop was found (or the frame was used
	// whole, with framing off).
	Person bool
	// Applied reports whether TryOn holds a try-on.
	Applied bool
	// Body is the person's body found in Frame that decided the composited
	// region, kept only with PipelineOptions.KeepMasks and when Applied
	// (nil otherwise, and when no person mask was found).
	Body *Body
	// Masks are the compositing masks, kept only with
	// PipelineOptions.KeepMasks and when Applied (evaluation).
	Masks CompositeMasks
	Time  time.Time
	Seq   int64
}

// Close releases the result's images.
func (r *Result) Close() {
	r.Frame.Close()
	r.TryOn.Close()
	r.Body.Close()
	r.Masks.Close()
}

// FramingMode says how the person crop is chosen.
type FramingMode int

const (
	// FramingAuto uses the whole frame when it is already a 3:4 portrait
	// and body-based framing (the pose models) otherwise.
	FramingAuto FramingMode = iota
	// FramingOn always uses body-based framing.
	FramingOn
	// FramingOff always uses the whole frame (resized to the model's input).
	FramingOff
)

// PipelineOptions configure a Pipeline.
type PipelineOptions struct {
	Framing     FramingMode
	FramingOpts FramingOptions // zero Smoothing: DefaultFraming()'s smoothing and hold
	// KeepMasks makes every applied Result carry its body and compositing
	// masks (Result.Body, Result.Masks), for evaluation; it costs copies.
	KeepMasks bool
	// WholeCrop pastes the whole crop back (feathered) even when the body
	// is known: the behaviour before body-aware compositing, kept for
	// comparison (realeval -paste whole).
	WholeCrop bool
	// PersonOptional keeps the pipeline working when the person models
	// cannot be loaded (the app: it shows FramingErr and goes on): frames
	// that need framing then pass through unchanged; 3:4 portraits are
	// still used whole. Without it NewPipeline fails with that error.
	PersonOptional bool
}

// Pipeline runs a model over a stream of frames.
//
// Live use (Start, Submit, Results): the warp stage runs on its own
// goroutine and always takes the newest person crop when it is free; the
// generation and paste-back stage runs for every displayed frame with the
// latest warp result. A stage that is busy makes older frames drop; nothing
// queues. Offline use (Process): every stage runs for every frame, in order,
// on the caller's goroutine. A Pipeline is used in one of the two ways.
type Pipeline struct {
	model  *Model
	opts   PipelineOptions
	framer *Framer // nil when framing is off

	garment atomic.Pointer[Garment]

	// stage state, used by Process or by the display goroutine
	crop    *cropper
	comp    *Compositor
	bodyBuf Body // borrows the framer's mask: never closed here
	// warpOut and genOut are Process's stage outputs, reused frame to
	// frame (the live stages have their own).
	warpOut, genOut tensors
	// held: the last personBox returned a box the framer holds from an
	// earlier frame, nobody being found in this one. Such a frame passes
	// through: without this frame's person mask the try-on could only be
	// pasted over the room.
	held bool

	// live state
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	in      *slot[Frame]
	warpIn  *slot[warpJob]
	results *slot[Result]
	latest  struct {
		sync.Mutex
		warp    *warpOut // the newest warp result, nil before the first
		garment *Garment
		seq     int64
		free    []*warpOut // results nobody reads any more, for the next runs
	}

	framingErr error // why the person models are missing (PersonOptional)

	display, warpM, genM, e2e, personM meter
	noPerson, unread                   atomic.Int64
	started, closed                    atomic.Bool
	closeOnce                          sync.Once
}

// warpJob is a person crop for the warp stage. The crop comes from the
// cropper's free list and goes back to it when the job is done or dropped;
// the display stage that made it reads it too, until the end of its frame
// (both only read it, and the display stage takes a crop from the free
// list only at the start of a frame).
type warpJob struct {
	crop gocv.Mat
	seq  int64
}

// warpOut is one live warp result. The warp goroutine fills one from the
// free list, then publishes it as the latest; the display stage reads the
// latest during a frame while the next run fills another. refs counts the
// holders (the latest slot, the frames reading it); at zero it goes back to
// the free list, so that the warp stage's outputs (1.2 MB a run at the
// shipped size, ~15 runs a second) are not a new Go allocation every run.
type warpOut struct {
	t    tensors
	refs int // guarded by Pipeline.latest
}

// newResult makes the result of a frame before any stage ran: TryOn
// shares the frame's pixels (no copy) until ownTryOn is called.
func newResult(f Frame) Result {
	return Result{Frame: f.Mat, TryOn: f.Mat.Region(image.Rect(0, 0, f.Mat.Cols(), f.Mat.Rows())), Time: f.Time, Seq: f.Seq}
}

// ownTryOn gives res a TryOn of its own to paste into: a copy of Frame.
func ownTryOn(res *Result) {
	res.TryOn.Close()
	res.TryOn = res.Frame.Clone()
}

// NewPipeline makes a pipeline over m. The caller keeps ownership of m and
// must close the pipeline before the model.
func NewPipeline(m *Model, opts PipelineOptions) (*Pipeline, error) {
	if opts.FramingOpts.Smoothing == 0 {
		d := DefaultFraming()
		opts.FramingOpts.Smoothing, opts.FramingOpts.HoldFrames = d.Smoothing, d.HoldFrames
	}
	p := &Pipeline{model: m, opts: opts}
	if opts.Framing != FramingOff {
		f, err := NewFramer(opts.FramingOpts)
		switch {
		case err == nil:
			p.framer = f
		case opts.PersonOptional:
			p.framingErr = err
		default:
			return nil, err
		}
	}
	w, h := m.Size()
	p.crop = newCropper(w, h)
	p.comp = NewCompositor(w, h)
	p.comp.Keep = opts.KeepMasks
	p.warpOut, p.genOut = tensors{}, tensors{}
	return p, nil
}

// FramingErr says why the person models could not be loaded when the
// pipeline was made with PersonOptional, or nil.
func (p *Pipeline) FramingErr() error { return p.framingErr }

// PoseModel says which pose landmark model frames people
// (person.LandmarkLite or person.LandmarkFull), or "" when the pipeline
// runs without person models (framing off, or the models missing).
func (p *Pipeline) PoseModel() string {
	if p.framer == nil {
		return ""
	}
	return p.framer.PoseModel()
}

// SetGarment selects the garment to dress people in; nil removes it (frames
// then pass through). Safe to call from any goroutine.
func (p *Pipeline) SetGarment(g *Garment) { p.garment.Store(g) }

// Garment returns the selected garment.
func (p *Pipeline) Garment() *Garment { return p.garment.Load() }

// personBox chooses the crop for a frame.
func (p *Pipeline) personBox(frame gocv.Mat, pts time.Duration) (image.Rectangle, bool, error) {
	full := image.Rect(0, 0, frame.Cols(), frame.Rows())
	p.held = false
	if p.opts.Framing == FramingOff {
		return full, true, nil
	}
	if p.framer == nil { // person models missing (PersonOptional)
		if p.opts.Framing == FramingAuto && isPortrait34(frame.Cols(), frame.Rows()) {
			return full, true, nil
		}
		return image.Rectangle{}, false, nil
	}
	p.personM.addIn()
	box, ok, err := p.framer.BoxAt(frame, pts)
	if err == nil {
		// The pose models' own time (on their goroutine in a live stream).
		p.personM.done(time.Now(), p.framer.Cost())
	}
	// A 3:4 portrait is used whole, but the person models still run: the
	// compositor needs the body to keep the face and the room.
	if err == nil && p.opts.Framing == FramingAuto && isPortrait34(frame.Cols(), frame.Rows()) {
		return full, true, nil
	}
	if ok {
		_, found := p.framer.Person()
		p.held = !found
	}
	return box, ok, err
}

// body returns the body the framer found in the frame of the last
// personBox call, borrowing the framer's mask, or nil.
func (p *Pipeline) body(frame gocv.Mat) *Body {
	if p.framer == nil {
		return nil
	}
	pp, ok := p.framer.Person()
	if !ok || !bodyFromPerson(&p.bodyBuf, pp, frame.Cols(), frame.Rows()) {
		return nil
	}
	return &p.bodyBuf
}

// isPortrait34 reports whether w x h is within 3% of a 3:4 portrait.
func isPortrait34(w, h int) bool {
	return h > 0 && math.Abs(float64(w)/float64(h)-0.75) < 0.75*0.03
}

// Process runs every stage on one frame and returns its result. It takes
// ownership of f.Mat.
func (p *Pipeline) Process(ctx context.Context, f Frame) (Result, error) {
	if p.closed.Load() {
		f.Mat.Close()
		return Result{}, ErrClosed
	}
	if p.started.Load() {
		f.Mat.Close()
		return Result{}, errors.New("inference: Process on a started pipeline")
	}
	start := time.Now()
	p.display.addIn()
	res, err := p.dressFrame(ctx, f, p.genOut, false)
	if err != nil {
		return Result{}, err
	}
	p.frameDone(start, f)
	return res, nil
}

// frameDone counts a frame the display stage (or Process) finished,
// begun at start.
func (p *Pipeline) frameDone(start time.Time, f Frame) {
	now := time.Now()
	p.display.done(now, now.Sub(start))
	if !f.Time.IsZero() {
		p.e2e.done(now, now.Sub(f.Time))
	}
}

// Reset forgets the tracked person, as at the start of a new stream (the
// next frame is searched afresh). For offline use (Process) between
// unrelated pictures.
func (p *Pipeline) Reset() {
	if p.framer != nil {
		p.framer.Reset()
	}
}

// Start launches the live stages. They stop when ctx is cancelled or Close
// is called.
func (p *Pipeline) Start(ctx context.Context) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if !p.started.CompareAndSwap(false, true) {
		return errors.New("inference: pipeline already started")
	}
	ctx, p.cancel = context.WithCancel(ctx)
	if p.framer != nil {
		p.framer.Start(ctx) // the pose models get their own goroutine
	}
	p.makeSlots()
	p.wg.Add(2)
	go func() { defer p.wg.Done(); p.runWarp(ctx) }()
	go func() { defer p.wg.Done(); p.runDisplay(ctx) }()
	return nil
}

// makeSlots makes the hand-offs between the live stages.
func (p *Pipeline) makeSlots() {
	p.in = newSlot(func(f Frame) { f.Mat.Close() })
	p.warpIn = newSlot(func(j warpJob) { p.crop.put(j.crop) })
	p.results = newSlot(func(r Result) { r.Close() })
}

// Submit hands a frame to the live pipeline, which owns it from now on. It
// never blocks: a frame still waiting for the display stage is dropped.
func (p *Pipeline) Submit(f Frame) {
	if !p.started.Load() || p.closed.Load() {
		f.Mat.Close()
		return
	}
	p.display.addIn()
	if p.in.put(f) {
		p.display.addDrop()
	}
}

// Results returns the channel of live results. It holds at most the newest
// result: one the consumer has not taken is replaced (and counted in
// Stats.Unread). It is closed when the pipeline stops.
func (p *Pipeline) Results() <-chan Result { return p.results.ch }

func (p *Pipeline) runDisplay(ctx context.Context) {
	defer p.results.close()
	gen := tensors{}
	for {
		var f Frame
		select {
		case <-ctx.Done():
			return
		case f = <-p.in.ch:
		}
		start := time.Now()
		res, err := p.dressFrame(ctx, f, gen, true)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// A failed run is counted as a drop; the stream goes on.
			p.display.addDrop()
			continue
		}
		p.frameDone(start, f)
		if p.results.put(res) {
			p.unread.Add(1)
		}
	}
}

// dressFrame runs the stages on one frame, in order: person framing,
// crop, warp, gen and composite; the one place both uses of a pipeline go
// through. Offline (live false, Process) the warp stage runs here on this
// frame's crop. Live (the display goroutine) the crop is offered to the
// warp goroutine and gen uses the latest warp result for the garment (none
// yet: the frame is shown as it is). gen holds the caller's gen outputs,
// reused frame to frame. It takes ownership of f.Mat.
func (p *Pipeline) dressFrame(ctx context.Context, f Frame, gen tensors, live bool) (Result, error) {
	res := newResult(f)
	g, dress, err := p.frameStage(&res, f.PTS)
	if err != nil {
		res.Close()
		return Result{}, err
	}
	if !dress {
		return res, nil
	}
	crop, err := p.cropStage(&res)
	if err != nil {
		res.Close()
		return Result{}, err
	}
	var warp tensors
	if live {
		// The warp job owns the crop from here on; this frame still
		// reads it (see warpJob).
		p.offerWarp(crop, f.Seq)
		if w := p.latestWarp(g); w != nil {
			defer p.releaseWarp(w)
			warp = w.t
		}
	} else {
		defer p.crop.put(crop)
		warp = p.warpOut
		p.warpM.addIn()
		if err := p.warpStage(ctx, crop, g, warp); err != nil {
			res.Close()
			return Result{}, err
		}
	}
	if warp == nil {
		return res, nil
	}
	if err := p.genStage(ctx, &res, crop, warp, gen); err != nil {
		res.Close()
		return Result{}, err
	}
	return res, nil
}

// frameStage chooses the person crop of res.Frame (framing) and records it
// in res. It returns the garment to dress the frame in, and whether to: a
// person was found in this very frame (not held from an earlier one) and a
// garment is selected.
func (p *Pipeline) frameStage(res *Result, pts time.Duration) (*Garment, bool, error) {
	box, ok, err := p.personBox(res.Frame, pts)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		p.noPerson.Add(1)
		return nil, false, nil
	}
	res.Box, res.Person = box, true
	g := p.garment.Load()
	return g, g != nil && !p.held, nil
}

// cropStage cuts res.Box out of res.Frame at the model's input size, into
// a crop from the cropper's free list (given back with p.crop.put). Warp
// and gen normalise it straight into their bound person tensors.
func (p *Pipeline) cropStage(res *Result) (gocv.Mat, error) {
	crop := p.crop.take()
	if err := p.crop.cut(&crop, res.Frame, res.Box); err != nil {
		p.crop.put(crop)
		return gocv.Mat{}, err
	}
	return crop, nil
}

// warpStage runs the warp stage on a crop for g into out.
func (p *Pipeline) warpStage(ctx context.Context, crop gocv.Mat, g *Garment, out tensors) error {
	t0 := time.Now()
	if err := p.model.warp(ctx, crop, g, out); err != nil {
		return err
	}
	now := time.Now()
	p.warpM.done(now, now.Sub(t0))
	return nil
}

// genStage runs the generation stage on a crop with a warp result into
// gen and composites the try-on into res, which then owns a TryOn of its
// own.
func (p *Pipeline) genStage(ctx context.Context, res *Result, crop gocv.Mat, warp, gen tensors) error {
	t0 := time.Now()
	p.genM.addIn()
	if err := p.model.gen(ctx, crop, warp, gen); err != nil {
		return err
	}
	ownTryOn(res)
	if err := p.composite(res, gen, warp, res.Box); err != nil {
		return err
	}
	p.genM.done(time.Now(), time.Since(t0))
	res.Applied = true
	return nil
}

// offerWarp hands a crop to the warp goroutine (live), replacing a crop it
// has not started on.
func (p *Pipeline) offerWarp(crop gocv.Mat, seq int64) {
	p.warpM.addIn()
	if p.warpIn.put(warpJob{crop: crop, seq: seq}) {
		p.warpM.addDrop()
	}
}

// latestWarp returns the warp goroutine's latest result if it is for g,
// or nil. The caller gives a result back with releaseWarp.
func (p *Pipeline) latestWarp(g *Garment) *warpOut {
	p.latest.Lock()
	defer p.latest.Unlock()
	if p.latest.garment != g || p.latest.warp == nil {
		return nil
	}
	p.latest.warp.refs++
	return p.latest.warp
}

// takeWarp returns a warp result to fill, held once (by the caller, then
// by the latest slot): from the free list, else a new one.
func (p *Pipeline) takeWarp() *warpOut {
	p.latest.Lock()
	defer p.latest.Unlock()
	if n := len(p.latest.free); n > 0 {
		w := p.latest.free[n-1]
		p.latest.free = p.latest.free[:n-1]
		w.refs = 1
		return w
	}
	return &warpOut{t: tensors{}, refs: 1}
}

// releaseWarp drops one hold on w; the last one puts it on the free list.
func (p *Pipeline) releaseWarp(w *warpOut) {
	p.latest.Lock()
	defer p.latest.Unlock()
	p.releaseWarpLocked(w)
}

func (p *Pipeline) releaseWarpLocked(w *warpOut) {
	if w == nil {
		return
	}
	if w.refs--; w.refs == 0 {
		p.latest.free = append(p.latest.free, w)
	}
}

// composite puts the generator's output for box into res.TryOn, replacing
// only the garment region when res.Body is known.
func (p *Pipeline) composite(res *Result, gen, warp tensors, box image.Rectangle) error {
	body := p.body(res.Frame)
	use := body
	if p.opts.WholeCrop {
		use = nil
	}
	if err := p.comp.Composite(&res.TryOn, gen, warp, box, use); err != nil {
		return err
	}
	if p.comp.Keep {
		res.Masks = p.comp.Last()
		if body != nil {
			b := *body
			b.Mask = body.Mask.Clone()
			res.Body = &b
		}
	}
	return nil
}

func (p *Pipeline) runWarp(ctx context.Context) {
	for {
		var job warpJob
		select {
		case <-ctx.Done():
			return
		case job = <-p.warpIn.ch:
		}
		g := p.garment.Load()
		if g == nil {
			p.crop.put(job.crop)
			continue
		}
		// Never the latest result: gen may be reading that one without a
		// lock (see warpOut).
		out := p.takeWarp()
		err := p.warpStage(ctx, job.crop, g, out.t)
		p.crop.put(job.crop)
		if err != nil {
			p.releaseWarp(out)
			if ctx.Err() != nil {
				return
			}
			p.warpM.addDrop()
			continue
		}
		p.latest.Lock()
		old := p.latest.warp
		p.latest.warp, p.latest.garment, p.latest.seq = out, g, job.seq
		p.releaseWarpLocked(old)
		p.latest.Unlock()
	}
}

// Stats returns a snapshot of the counters.
func (p *Pipeline) Stats() Stats {
	return Stats{
		Display:  p.display.snapshot(),
		Warp:     p.warpM.snapshot(),
		Gen:      p.genM.snapshot(),
		EndToEnd: p.e2e.snapshot(),
		Unread:   p.unread.Load(),
		NoPerson: p.noPerson.Load(),
		Person:   p.personM.snapshot(),
	}
}

// Close stops the live stages (terminating a run in progress), waits for
// them, and releases every frame still held. It is idempotent; the model is
// not closed.
func (p *Pipeline) Close() error {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		if p.cancel != nil {
			p.cancel()
			p.wg.Wait()
			p.in.close()
			p.in.drain()
			p.warpIn.drain() // gives its crop back
			p.results.drain()
		}
		if p.framer != nil {
			p.framer.Close()
		}
		p.crop.close()
		p.comp.Close()
	})
	return nil
}

// String describes the pipeline for logs.
func (p *Pipeline) String() string {
	w, h := p.model.Size()
	return fmt.Sprintf("pipeline(%s %dx%d)", p.model.Manifest.Name, w, h)
}

// slot is a one-value mailbox with latest-value semantics: put replaces a
// value nobody has taken yet, releasing it with drop. One producer.
type slot[T any] struct {
	ch   chan T
	drop func(T)
	mu   sync.Mutex // guards closed against put
	done bool
}

func newSlot[T any](drop func(T)) *slot[T] {
	return &slot[T]{ch: make(chan T, 1), drop: drop}
}

// put stores v and reports whether an older value was dropped for it.
func (s *slot[T]) put(v T) (dropped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		s.drop(v)
		return true
	}
	for {
		select {
		case s.ch <- v:
			return dropped
		default:
		}
		select {
		case old := <-s.ch:
			s.drop(old)
			dropped = true
		default:
		}
	}
}

// close closes the channel; later puts drop their value.
func (s *slot[T]) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.done = true
		close(s.ch)
	}
}

// drain releases a value left in the slot.
func (s *slot[T]) drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		select {
		case v, ok := <-s.ch:
			if !ok {
				return
			}
			s.drop(v)
		default:
			return
		}
	}
}
