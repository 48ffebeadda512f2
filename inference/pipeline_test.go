package inference

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"mgvton/internal/matleak"
	"mgvton/internal/repotest"
	"mgvton/person"
)

// portraitFrame makes a 3:4 frame (framing uses it whole) tinted by seq.
func portraitFrame(seq int64) Frame {
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(float64(seq%200), 120, 90, 0), 128, 96, gocv.MatTypeCV8UC3)
	return Frame{Mat: m, Time: time.Now(), Seq: seq}
}

func newTestPipeline(t *testing.T, framing FramingMode) (*Pipeline, *Model) {
	t.Helper()
	return newTestPipelineWith(t, PipelineOptions{Framing: framing})
}

// newTestPipelineWith makes a pipeline on the fixture model dressing the
// fixture garment, with the repository's person models when it frames;
// it is closed at the end of the test.
func newTestPipelineWith(t *testing.T, opts PipelineOptions) (*Pipeline, *Model) {
	t.Helper()
	m := loadFixture(t, fixtureDir)
	if opts.Framing != FramingOff {
		opts.FramingOpts.Person.Dir = repotest.PersonModels(t)
	}
	p, err := NewPipeline(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	p.SetGarment(fixtureGarment(t, m))
	return p, m
}

func TestProcessAppliesTheGarmentOnAPortrait(t *testing.T) {
	matleak.Check(t)
	p, _ := newTestPipeline(t, FramingAuto)
	res, err := p.Process(t0ctx, portraitFrame(1))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if !res.Person || !res.Applied {
		t.Fatalf("got Person=%v Applied=%v; want both", res.Person, res.Applied)
	}
	if res.Box != image128x96 {
		t.Errorf("box: got %v; want the whole frame", res.Box)
	}
	if equalMats(res.Frame, res.TryOn) {
		t.Error("try-on equals the input frame; want the garment drawn in")
	}
	if st := p.Stats(); st.Display.Out != 1 || st.Warp.Out != 1 || st.Gen.Out != 1 {
		t.Errorf("stats: got display %d warp %d gen %d outputs; want 1 each", st.Display.Out, st.Warp.Out, st.Gen.Out)
	}
}

func TestProcessPassesThroughAFrameWithNobody(t *testing.T) {
	matleak.Check(t)
	p, _ := newTestPipeline(t, FramingAuto)
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(30, 60, 90, 0), 240, 320, gocv.MatTypeCV8UC3)
	res, err := p.Process(t0ctx, Frame{Mat: frame, Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if res.Person || res.Applied {
		t.Errorf("got Person=%v Applied=%v; want neither", res.Person, res.Applied)
	}
	if !equalMats(res.Frame, res.TryOn) {
		t.Error("frame with nobody was changed; want it unchanged")
	}
	if n := p.Stats().NoPerson; n != 1 {
		t.Errorf("NoPerson: got %d; want 1", n)
	}
}

func TestPipelineWithoutPersonModels(t *testing.T) {
	matleak.Check(t)
	m := loadFixture(t, fixtureDir)
	opts := PipelineOptions{Framing: FramingAuto}
	opts.FramingOpts.Person.Dir = t.TempDir() // no models there
	if _, err := NewPipeline(m, opts); err == nil || !strings.Contains(err.Error(), "pose_detection.onnx") ||
		strings.Contains(err.Error(), "\n") {
		t.Fatalf("NewPipeline without person models: got %v; want a one-line error naming pose_detection.onnx", err)
	}
	opts.PersonOptional = true
	p, err := NewPipeline(m, opts)
	if err != nil {
		t.Fatalf("PersonOptional: got %v; want a pipeline", err)
	}
	defer p.Close()
	if err := p.FramingErr(); err == nil || !strings.Contains(err.Error(), "pose_detection.onnx") {
		t.Errorf("FramingErr: got %v; want the error naming pose_detection.onnx", err)
	}
	p.SetGarment(fixtureGarment(t, m))
	// A landscape frame needs framing: it passes through unchanged.
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(30, 60, 90, 0), 240, 320, gocv.MatTypeCV8UC3)
	res, err := p.Process(t0ctx, Frame{Mat: frame, Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Person || res.Applied || !equalMats(res.Frame, res.TryOn) {
		t.Errorf("landscape frame: got Person=%v Applied=%v; want it passed through unchanged", res.Person, res.Applied)
	}
	res.Close()
	// A 3:4 portrait is still used whole.
	res, err = p.Process(t0ctx, portraitFrame(2))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Applied {
		t.Error("portrait frame: got no try-on; want the whole frame dressed")
	}
	res.Close()
}

func TestLivePipelineDropsStaleFramesAndDeliversTheNewest(t *testing.T) {
	matleak.Check(t)
	p, _ := newTestPipeline(t, FramingOff)
	if err := p.Start(t0ctx); err != nil {
		t.Fatal(err)
	}
	// Nobody reads results while 200 frames arrive as fast as possible:
	// the pipeline must drop, not queue, and keep only the newest result.
	const n = 200
	for i := int64(1); i <= n; i++ {
		p.Submit(portraitFrame(i))
	}
	// Wait until the last frame has been processed (or dropped).
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := p.Stats()
		if st.Display.In == n && st.Display.Out+st.Display.Dropped == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipeline did not settle: %+v", st.Display)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var last Result
	select {
	case last = <-p.Results():
	case <-time.After(5 * time.Second):
		t.Fatal("no result delivered")
	}
	defer last.Close()
	if last.Seq != n {
		t.Errorf("newest result: got seq %d; want %d", last.Seq, n)
	}
	// How the n-1 older frames were lost depends on timing (dropped
	// before the display stage, or processed and replaced unread), but
	// the sum does not: every frame but the newest is gone.
	st := p.Stats()
	if st.Unread != st.Display.Out-1 {
		t.Errorf("unread: got %d; want %d (every processed result but the newest)", st.Unread, st.Display.Out-1)
	}
	if st.Dropped() != n-1 {
		t.Errorf("dropped %d (unread %d) of %d frames nobody read; want %d", st.Dropped(), st.Unread, n, n-1)
	}
	select {
	case r := <-p.Results():
		r.Close()
		t.Errorf("a second result (seq %d) was queued; want only the newest kept", r.Seq)
	default:
	}
	if st.Warp.In == 0 || st.Warp.Out == 0 {
		t.Errorf("warp stage: got in %d out %d; want it to have run", st.Warp.In, st.Warp.Out)
	}
	if st.Warp.Out+st.Warp.Dropped > st.Warp.In {
		t.Errorf("warp accounting: out %d + dropped %d > in %d", st.Warp.Out, st.Warp.Dropped, st.Warp.In)
	}
}

func TestLivePipelineAppliesTheTryOnOnceWarped(t *testing.T) {
	matleak.Check(t)
	p, _ := newTestPipeline(t, FramingOff)
	if err := p.Start(t0ctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t0ctx, 10*time.Second)
	defer cancel()
	seq := int64(0)
	for {
		seq++
		p.Submit(portraitFrame(seq))
		select {
		case r := <-p.Results():
			applied := r.Applied
			r.Close()
			if applied {
				return
			}
		case <-ctx.Done():
			t.Fatal("no try-on applied within 10 s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestLiveAndProcessDressAFrameAlike: the live display stage (crop offered
// to the warp goroutine, gen on the latest warp) and Process (every stage
// in order) go through the same stage functions, so a frame the live
// pipeline dresses with the warp of an identical frame comes out exactly
// as Process makes it.
func TestLiveAndProcessDressAFrameAlike(t *testing.T) {
	matleak.Check(t)
	frame := patternFrame(t, 320, 240)
	off, m := newTestPipeline(t, FramingOff)
	want, err := off.Process(t0ctx, Frame{Mat: frame.Clone(), Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	if !want.Applied {
		t.Fatal("Process: got no try-on")
	}
	p, err := NewPipeline(m, PipelineOptions{Framing: FramingOff})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetGarment(off.Garment())
	if err := p.Start(t0ctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t0ctx, 10*time.Second)
	defer cancel()
	for seq := int64(1); ; seq++ {
		p.Submit(Frame{Mat: frame.Clone(), Seq: seq})
		select {
		case r := <-p.Results():
			if r.Applied {
				defer r.Close()
				if r.Box != want.Box || !equalMats(r.TryOn, want.TryOn) {
					t.Errorf("live try-on (box %v) differs from Process's (box %v)", r.Box, want.Box)
				}
				return
			}
			r.Close()
		case <-ctx.Done():
			t.Fatal("no try-on applied within 10 s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// patternFrame makes a w x h BGR frame with a smooth pattern in every
// channel, closed at the end of the test.
func patternFrame(t *testing.T, w, h int) gocv.Mat {
	t.Helper()
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	t.Cleanup(func() { m.Close() })
	pix, err := m.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := 3 * (y*w + x)
			pix[i], pix[i+1], pix[i+2] = uint8(x*255/w), uint8(y*255/h), uint8((x+y)%256)
		}
	}
	return m
}

func TestCloseStopsGoroutinesAndReleasesFrames(t *testing.T) {
	matleak.Check(t)
	before := runtime.NumGoroutine()
	m := loadFixture(t, fixtureDir)
	p, err := NewPipeline(m, PipelineOptions{Framing: FramingOff})
	if err != nil {
		t.Fatal(err)
	}
	p.SetGarment(fixtureGarment(t, m))
	if err := p.Start(t0ctx); err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 50; i++ {
		p.Submit(portraitFrame(i))
	}
	p.Close()
	p.Close() // idempotent
	// Results is closed; anything left in it was released by Close.
	for r := range p.Results() {
		r.Close()
	}
	p.Submit(portraitFrame(99)) // after Close: released, not leaked
	if _, err := p.Process(t0ctx, portraitFrame(100)); err != ErrClosed {
		t.Errorf("Process after Close: got %v; want ErrClosed", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: got %d after Close; want <= %d", n, before)
	}
}

var image128x96 = imageRect(96, 128)

func equalMats(a, b gocv.Mat) bool {
	if a.Cols() != b.Cols() || a.Rows() != b.Rows() {
		return false
	}
	d := gocv.NewMat()
	defer d.Close()
	gocv.AbsDiff(a, b, &d)
	flat := d.Reshape(1, 0)
	defer flat.Close()
	return gocv.CountNonZero(flat) == 0
}

// The landmark model chosen in FramingOpts.Person is the graph the tracker
// loads, and PoseModel says which it is.
func TestPipelinePoseModel(t *testing.T) {
	matleak.Check(t)
	full, _ := newTestPipelineWith(t, PipelineOptions{Framing: FramingOn})
	lo := PipelineOptions{Framing: FramingOn}
	lo.FramingOpts.Person.Lite = true
	lite, _ := newTestPipelineWith(t, lo)
	off, _ := newTestPipeline(t, FramingOff)
	for _, c := range []struct {
		p    *Pipeline
		want string
	}{{full, person.LandmarkFull}, {lite, person.LandmarkLite}, {off, ""}} {
		if got := c.p.PoseModel(); got != c.want {
			t.Errorf("PoseModel: got %q; want %q", got, c.want)
		}
	}

	// A folder holding the detector and the full landmark graph only: the
	// lite choice must fail on the missing file, the full one load.
	src, dir := repotest.PersonModels(t), t.TempDir()
	for _, f := range []string{person.DetectorFile, person.LandmarkFullFile} {
		if err := os.Symlink(filepath.Join(src, f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	m := loadFixture(t, fixtureDir)
	o := PipelineOptions{Framing: FramingOn}
	o.FramingOpts.Person = person.Options{Dir: dir, Lite: true}
	if p, err := NewPipeline(m, o); err == nil || !strings.Contains(err.Error(), person.LandmarkLiteFile) {
		if p != nil {
			p.Close()
		}
		t.Errorf("lite landmarks without %s: got %v; want an error naming it", person.LandmarkLiteFile, err)
	}
	o.FramingOpts.Person.Lite = false
	p, err := NewPipeline(m, o)
	if err != nil {
		t.Fatalf("full landmarks without the lite file: %v", err)
	}
	p.Close()
}
