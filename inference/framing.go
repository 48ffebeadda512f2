package inference

import (
	"context"
	"fmt"
	"image"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"mgvton/internal/matpool"
	"mgvton/person"
)

// FramingOptions configure person framing. The crop itself is placed by
// person.FrameBox, the rule the lab also crops its training data with: from
// shoulders, hips and head, so that the body lands where it lands in the
// training crops. The box may extend past the frame's edges (a webcam
// close-up puts the hips, and so the crop's bottom, below the frame): the
// crop is then padded by replicating the edge pixels, so the person keeps
// the scale and position the model was trained on.
type FramingOptions struct {
	// Smoothing is the weight of the new box in the running average (0..1];
	// 1 means no smoothing. The keypoints are already One-Euro filtered;
	// this evens out the jump when the hips enter or leave the frame.
	Smoothing float64
	// HoldFrames is how many frames without a person keep the last box.
	HoldFrames int
	// Person configures the pose tracker (model folder, lite or full
	// landmark model, mask source). Its zero value is the default.
	Person person.Options
}

// DefaultFraming returns the framing used by the app.
func DefaultFraming() FramingOptions {
	return FramingOptions{Smoothing: 0.5, HoldFrames: 15}
}

// Framer finds the person in a frame with the pretrained pose models and
// keeps a smoothed 3:4 crop box. It is used by one goroutine at a time.
type Framer struct {
	opts    FramingOptions
	tracker *person.Tracker
	last    person.Person // the person of the last frame, when found
	found   bool

	box    rectF // smoothed box, in frame pixels
	hasBox bool
	missed int
	closed bool
	cost   time.Duration // the person models' time for the last result
	t0     time.Time     // stream time origin for the tracker's filter

	// Live use (Start): the tracker runs on its own goroutine on the
	// newest frame, and Box uses its latest result.
	async struct {
		in      *slot[trackJob]
		cancel  context.CancelFunc
		wg      sync.WaitGroup
		mu      sync.Mutex
		latest  *trackResult // not yet taken by Box
		reset   atomic.Bool
		started bool
		// free holds frame copies the tracker is done with, copied into
		// again (about one per stage in flight).
		free *matpool.List
	}
}

// trackJob is a frame (a copy the tracker goroutine owns until it gives
// it back to async.free) to track.
type trackJob struct {
	frame gocv.Mat
	at    time.Duration
}

// trackResult is the tracker goroutine's answer for one frame.
type trackResult struct {
	p     person.Person
	found bool
	w, h  int
	cost  time.Duration
	err   error
}

type rectF struct{ x, y, w, h float64 }

// NewFramer loads the person models (opts.Person.Dir, else
// person.DefaultModelDir()).
func NewFramer(opts FramingOptions) (*Framer, error) {
	t, err := person.New(opts.Person)
	if err != nil {
		return nil, fmt.Errorf("inference: framing: %w", err)
	}
	return &Framer{opts: opts, tracker: t, t0: time.Now()}, nil
}

// Start moves the person models to their own goroutine, for a live
// stream: Box then hands each frame to it (replacing a frame it has not
// started on) and returns at once with the box from the latest finished
// frame, usually the one before. The display never waits for the pose
// models; the person's keypoints and mask lag by a frame or so. The
// goroutine stops when ctx is cancelled or at Close.
func (f *Framer) Start(ctx context.Context) {
	if f.async.started || f.closed {
		return
	}
	f.async.started = true
	ctx, f.async.cancel = context.WithCancel(ctx)
	f.async.free = matpool.New(3)
	f.async.in = newSlot(func(j trackJob) { f.async.free.Put(j.frame) })
	f.async.wg.Add(1)
	go func() {
		defer f.async.wg.Done()
		for {
			var job trackJob
			select {
			case <-ctx.Done():
				return
			case job = <-f.async.in.ch:
			}
			if f.async.reset.CompareAndSwap(true, false) {
				f.tracker.Reset()
			}
			t0 := time.Now()
			p, found, err := f.tracker.TrackAt(job.frame, job.at)
			res := &trackResult{p: p, found: found, w: job.frame.Cols(), h: job.frame.Rows(),
				cost: time.Since(t0), err: err}
			f.async.free.Put(job.frame)
			f.async.mu.Lock()
			if old := f.async.latest; old != nil {
				old.p.Close()
			}
			f.async.latest = res
			f.async.mu.Unlock()
		}
	}()
}

// Close stops the tracker goroutine and releases the models. It is
// idempotent.
func (f *Framer) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	if f.async.started {
		f.async.cancel()
		f.async.wg.Wait()
		f.async.in.close()
		f.async.in.drain()
		if r := f.async.latest; r != nil {
			r.p.Close()
			f.async.latest = nil
		}
		f.async.free.Close()
	}
	f.last.Close()
	return f.tracker.Close()
}

// Reset forgets the tracked person and the smoothed box (a new stream starts).
func (f *Framer) Reset() {
	f.hasBox, f.missed = false, 0
	if f.async.started {
		f.async.reset.Store(true)
	} else {
		f.tracker.Reset()
	}
	f.last.Close()
	f.found = false
}

// PoseModel says which pose landmark model the framer's tracker runs
// (person.LandmarkLite or person.LandmarkFull).
func (f *Framer) PoseModel() string { return f.tracker.LandmarkModel() }

// Cost is the person models' time for the frame the last Box result came
// from (on the tracker goroutine after Start).
func (f *Framer) Cost() time.Duration { return f.cost }

// Person returns the person found in the frame of the last Box call (its
// keypoints and mask at that frame's resolution), or ok=false when nobody
// was found there (the box may still be held). The Framer keeps ownership:
// the Person is valid until the next Box, Reset or Close.
func (f *Framer) Person() (p *person.Person, ok bool) { return &f.last, f.found }

// Box finds the person in frame (BGR, which stays the caller's) and
// returns the smoothed 3:4 crop box in frame pixels, or ok=false when nobody
// has been seen for more than HoldFrames frames.
func (f *Framer) Box(frame gocv.Mat) (box image.Rectangle, ok bool, err error) {
	return f.BoxAt(frame, 0)
}

// BoxAt is Box for a frame at stream time pts (a video file's frame time),
// which times the keypoint filter; zero means the wall clock.
func (f *Framer) BoxAt(frame gocv.Mat, pts time.Duration) (box image.Rectangle, ok bool, err error) {
	at := pts
	if at == 0 {
		at = time.Since(f.t0)
	}
	if f.async.started {
		return f.boxAsync(frame, at)
	}
	f.last.Close()
	f.found = false
	t0 := time.Now()
	p, found, err := f.tracker.TrackAt(frame, at)
	f.cost = time.Since(t0)
	if err != nil {
		return image.Rectangle{}, false, fmt.Errorf("inference: framing: %w", err)
	}
	box, ok = f.fold(p, found, frame.Cols(), frame.Rows())
	return box, ok, nil
}

// fold takes ownership of the tracker's answer p for a w x h frame and
// updates the box.
func (f *Framer) fold(p person.Person, found bool, w, h int) (image.Rectangle, bool) {
	var target person.Box
	if found {
		f.last = p
		target, found = person.FrameBox(&p.Keypoints, w, h)
		f.found = true
	}
	return f.update(rectF{target.X, target.Y, target.W, target.H}, found)
}

// boxAsync hands a copy of frame to the tracker goroutine and folds in its
// latest finished result, if there is a new one.
func (f *Framer) boxAsync(frame gocv.Mat, at time.Duration) (image.Rectangle, bool, error) {
	m := f.async.free.Get()
	frame.CopyTo(&m) // same size as last time: no allocation
	f.async.in.put(trackJob{frame: m, at: at})
	f.async.mu.Lock()
	r := f.async.latest
	f.async.latest = nil
	f.async.mu.Unlock()
	if r == nil {
		// Nothing new: keep the box (and person) of the last result.
		if !f.hasBox {
			return image.Rectangle{}, false, nil
		}
		return f.box.round(), true, nil
	}
	f.cost = r.cost
	if r.err != nil {
		return image.Rectangle{}, false, fmt.Errorf("inference: framing: %w", r.err)
	}
	f.last.Close()
	f.found = false
	if r.found && (r.w != frame.Cols() || r.h != frame.Rows()) {
		// The stream changed size: that person belongs to another picture.
		r.p.Close()
		r.found = false
	}
	box, ok := f.fold(r.p, r.found, frame.Cols(), frame.Rows())
	return box, ok, nil
}

// update folds one target box (or a miss) into the smoothed box.
func (f *Framer) update(target rectF, found bool) (image.Rectangle, bool) {
	if found {
		if !f.hasBox {
			f.box = target
		} else {
			a := f.opts.Smoothing
			f.box = rectF{
				f.box.x + a*(target.x-f.box.x), f.box.y + a*(target.y-f.box.y),
				f.box.w + a*(target.w-f.box.w), f.box.h + a*(target.h-f.box.h),
			}
		}
		f.hasBox, f.missed = true, 0
	} else if f.hasBox {
		f.missed++
		if f.missed > f.opts.HoldFrames {
			f.hasBox = false
		}
	}
	if !f.hasBox {
		return image.Rectangle{}, false
	}
	return f.box.round(), true
}

// round converts to integer pixels, keeping 3:4.
func (r rectF) round() image.Rectangle {
	h := int(math.Round(r.h))
	w := int(math.Round(float64(h) * 3 / 4))
	x := int(math.Round(r.x))
	y := int(math.Round(r.y))
	return image.Rect(x, y, x+w, y+h)
}

// feather is a cached alpha ramp for pasting a crop back with soft edges.
type feather struct {
	w, h  int
	alpha []float32
}

// featherFor returns alpha weights (1 inside, ramping to 0 over border
// pixels at the edges) for a w x h box.
func (c *feather) get(w, h int) []float32 {
	if c.w == w && c.h == h {
		return c.alpha
	}
	border := max(2, min(w, h)/12)
	ramp := func(i, n int) float32 {
		d := min(i, n-1-i)
		if d >= border {
			return 1
		}
		t := float32(d+1) / float32(border+1)
		return t * t * (3 - 2*t) // smoothstep
	}
	c.w, c.h = w, h
	c.alpha = make([]float32, w*h)
	for y := 0; y < h; y++ {
		ay := ramp(y, h)
		for x := 0; x < w; x++ {
			c.alpha[y*w+x] = min(ay, ramp(x, w))
		}
	}
	return c.alpha
}

// pasteBack blends src (BGR 8UC3, the size of box) into frame at box with
// the feathered alpha; the parts of box outside the frame are skipped.
func pasteBack(frame *gocv.Mat, src gocv.Mat, box image.Rectangle, f *feather) error {
	w, h := box.Dx(), box.Dy()
	if src.Cols() != w || src.Rows() != h || src.Type() != gocv.MatTypeCV8UC3 || frame.Type() != gocv.MatTypeCV8UC3 {
		return fmt.Errorf("inference: paste %dx%d into box %v: size or type mismatch", src.Cols(), src.Rows(), box)
	}
	inter := box.Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	if inter.Empty() {
		return fmt.Errorf("inference: paste box %v outside frame %dx%d", box, frame.Cols(), frame.Rows())
	}
	alpha := f.get(w, h)
	dst, err := frame.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("inference: frame data: %w", err)
	}
	s, err := src.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("inference: crop data: %w", err)
	}
	stride := frame.Cols() * 3
	for y := inter.Min.Y; y < inter.Max.Y; y++ {
		by := y - box.Min.Y
		row := dst[y*stride:]
		srow := s[by*w*3:]
		arow := alpha[by*w:]
		for x := inter.Min.X; x < inter.Max.X; x++ {
			bx := x - box.Min.X
			a := arow[bx]
			for c := 0; c < 3; c++ {
				d, v := x*3+c, bx*3+c
				row[d] = uint8(float32(row[d])*(1-a) + float32(srow[v])*a + 0.5)
			}
		}
	}
	return nil
}
