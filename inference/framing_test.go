package inference

import (
	"context"
	"image"
	"math"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"mgvton/internal/matleak"
	"mgvton/internal/repotest"
	"mgvton/person"
)

func TestCropPadsABoxPastTheFrame(t *testing.T) {
	matleak.Check(t)
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(10, 20, 30, 0), 120, 160, gocv.MatTypeCV8UC3)
	defer frame.Close()
	c := newCropper(48, 64)
	defer c.close()
	box := image.Rect(-30, -40, 60, 80) // 90x120, mostly above and left of the frame
	crop := c.take()
	defer func() { c.put(crop) }()
	if err := c.cut(&crop, frame, box); err != nil {
		t.Fatal(err)
	}
	person := make([]float32, 3*48*64)
	if err := imageToTensor(person, crop); err != nil {
		t.Fatal(err)
	}
	// Edge replication of a flat frame is flat: every value is the frame's.
	want := float32(30)/127.5 - 1 // red plane holds the R of BGR (10, 20, 30)
	if got := person[0]; got < want-1e-5 || got > want+1e-5 {
		t.Errorf("padded crop red: got %v; want %v", got, want)
	}
	comp := NewCompositor(48, 64)
	defer comp.Close()
	if err := comp.Composite(&frame, tensors{TensorTryOn: make([]float32, 3*48*64)}, nil, box, nil); err != nil {
		t.Fatalf("paste of a box past the frame: %v", err)
	}
	if err := c.cut(&crop, frame, image.Rect(200, 200, 290, 320)); err == nil {
		t.Error("crop box fully outside the frame: got no error")
	}
}

func TestFramerSmoothsAndHolds(t *testing.T) {
	f := &Framer{opts: FramingOptions{Smoothing: 0.5, HoldFrames: 2}}
	b1, ok := f.update(rectF{45, 60, 150, 200}, true)
	if !ok || b1 != image.Rect(45, 60, 195, 260) {
		t.Fatalf("first box: got %v %v; want (45,60)-(195,260) true", b1, ok)
	}
	// The target jumps 40 px right: the box moves half way.
	b2, _ := f.update(rectF{85, 60, 150, 200}, true)
	if b2.Min.X != 65 {
		t.Errorf("smoothed x: got %d; want 65", b2.Min.X)
	}
	for i := 1; i <= 2; i++ {
		if b, ok := f.update(rectF{}, false); !ok || b != b2 {
			t.Errorf("miss %d: got %v %v; want the held box %v", i, b, ok, b2)
		}
	}
	if _, ok := f.update(rectF{}, false); ok {
		t.Errorf("after HoldFrames misses: got a box; want none")
	}
}

func TestFramerFindsNobodyInABlankFrame(t *testing.T) {
	matleak.Check(t)
	f := newTestFramer(t, DefaultFraming())
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(120, 130, 140, 0), 480, 640, gocv.MatTypeCV8UC3)
	defer frame.Close()
	b, ok, err := f.Box(frame)
	if err != nil || ok {
		t.Errorf("blank frame: got box %v %v %v; want none", b, ok, err)
	}
	if _, found := f.Person(); found {
		t.Error("blank frame: Person reports somebody")
	}
}

func TestNewFramerMissingModels(t *testing.T) {
	o := DefaultFraming()
	o.Person.Dir = t.TempDir()
	o.Person.LibraryPath = repotest.LibraryPath(t)
	_, err := NewFramer(o)
	if err == nil || !strings.Contains(err.Error(), "pose_detection.onnx") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("NewFramer without models: got %v; want a one-line error naming pose_detection.onnx", err)
	}
}

func TestPasteBackFeathersTheEdge(t *testing.T) {
	matleak.Check(t)
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), 100, 100, gocv.MatTypeCV8UC3)
	defer frame.Close()
	box := image.Rect(20, 10, 80, 90)
	crop := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(200, 200, 200, 0), box.Dy(), box.Dx(), gocv.MatTypeCV8UC3)
	defer crop.Close()
	var fe feather
	if err := pasteBack(&frame, crop, box, &fe); err != nil {
		t.Fatal(err)
	}
	at := func(x, y int) uint8 { return frame.GetVecbAt(y, x)[0] }
	cases := []struct {
		name   string
		x, y   int
		lo, hi uint8
	}{
		{"centre fully replaced", 50, 50, 200, 200},
		{"outside untouched", 10, 50, 0, 0},
		{"edge blended", 20, 50, 1, 199},
		{"corner blended", 20, 10, 1, 199},
	}
	for _, c := range cases {
		if v := at(c.x, c.y); v < c.lo || v > c.hi {
			t.Errorf("%s: pixel (%d,%d) = %d; want in [%d, %d]", c.name, c.x, c.y, v, c.lo, c.hi)
		}
	}
	if err := pasteBack(&frame, crop, image.Rect(150, 150, 210, 230), &fe); err == nil {
		t.Error("paste fully outside the frame: got no error")
	}
}

func TestIsPortrait34(t *testing.T) {
	for _, c := range []struct {
		w, h int
		want bool
	}{{768, 1024, true}, {192, 256, true}, {640, 480, false}, {480, 640, true}, {500, 640, false}, {0, 0, false}} {
		if got := isPortrait34(c.w, c.h); got != c.want {
			t.Errorf("isPortrait34(%d, %d) = %v; want %v", c.w, c.h, got, c.want)
		}
	}
}

func TestTensorImageRoundTrip(t *testing.T) {
	matleak.Check(t)
	img := readImage(t, "testdata/person.png", gocv.IMReadColor)
	tn := make([]float32, 3*img.Cols()*img.Rows())
	if err := imageToTensor(tn, img); err != nil {
		t.Fatal(err)
	}
	back := gocv.NewMat()
	defer back.Close()
	if err := tensorToImage(&back, tn, img.Cols(), img.Rows()); err != nil {
		t.Fatal(err)
	}
	diff := gocv.NewMat()
	defer diff.Close()
	gocv.AbsDiff(img, back, &diff)
	flat := diff.Reshape(1, 0)
	defer flat.Close()
	_, maxVal, _, _ := gocv.MinMaxLoc(flat)
	if maxVal != 0 {
		t.Errorf("round trip max pixel diff %v; want 0", maxVal)
	}
	if err := imageToTensor(tn[:10], img); err == nil {
		t.Error("imageToTensor into a short tensor: got no error")
	}
}

// TestFramerOnDemoClip runs the demo clip (our synthetic demo person,
// upper body, landscape) through the framer: the person must be found in
// nearly every frame, with the shoulders inside the box where the rule puts
// them, and the box must move smoothly.
func TestFramerOnDemoClip(t *testing.T) {
	matleak.Check(t)
	vc, err := gocv.VideoCaptureFile("../assets/demo.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	f := newTestFramer(t, DefaultFraming())
	frame := gocv.NewMat()
	defer frame.Close()
	frames, found, worstJump := 0, 0, 0.0
	var prev image.Rectangle
	for frames < 90 && vc.Read(&frame) && !frame.Empty() {
		frames++
		box, ok, err := f.Box(frame)
		if err != nil {
			t.Fatal(err)
		}
		p, seen := f.Person()
		if !ok || !seen {
			continue
		}
		found++
		if p.Mask.Cols() != frame.Cols() || p.Mask.Rows() != frame.Rows() {
			t.Fatalf("mask %dx%d; want the frame's %dx%d", p.Mask.Cols(), p.Mask.Rows(), frame.Cols(), frame.Rows())
		}
		sy := (p.Keypoints[person.LeftShoulder].Y + p.Keypoints[person.RightShoulder].Y) / 2
		if rel := (sy - float64(box.Min.Y)) / float64(box.Dy()); math.Abs(rel-person.FrameShoulderY) > 0.1 {
			t.Errorf("frame %d: shoulders at %.2f of the box; want about %.2f", frames, rel, person.FrameShoulderY)
		}
		if !prev.Empty() {
			d := math.Hypot(float64(box.Min.X-prev.Min.X), float64(box.Min.Y-prev.Min.Y)) / float64(box.Dy())
			worstJump = math.Max(worstJump, d)
		}
		prev = box
	}
	t.Logf("%d frames, person in %d, largest box move between frames %.3f box heights", frames, found, worstJump)
	if frames < 60 || found < frames*9/10 {
		t.Errorf("demo clip: person found in %d of %d frames; want at least 90%%", found, frames)
	}
	if worstJump > 0.1 {
		t.Errorf("box moved %.3f box heights between frames; want under 0.1", worstJump)
	}
}

// TestFramerLiveRunsThePoseModelsAside: after Start, Box hands the frame to
// the tracker goroutine and returns with the latest finished result; the
// demo person is found within a few frames and the box matches the
// synchronous framer's. (Box's time is logged, not asserted.)
func TestFramerLiveRunsThePoseModelsAside(t *testing.T) {
	matleak.Check(t)
	vc, err := gocv.VideoCaptureFile("../assets/demo.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	live := newTestFramer(t, DefaultFraming())
	sync := newTestFramer(t, DefaultFraming())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	live.Start(ctx)
	frame := gocv.NewMat()
	defer frame.Close()
	var slowest time.Duration
	firstBox, frames := -1, 0
	var lastLive, lastSync image.Rectangle
	for frames < 45 && vc.Read(&frame) && !frame.Empty() {
		frames++
		t0 := time.Now()
		box, ok, err := live.Box(frame)
		slowest = max(slowest, time.Since(t0))
		if err != nil {
			t.Fatal(err)
		}
		if ok && firstBox < 0 {
			firstBox = frames
		}
		if p, found := live.Person(); found && (p.Mask.Cols() != frame.Cols() || p.Mask.Rows() != frame.Rows()) {
			t.Fatalf("live person mask %dx%d; want the frame's size", p.Mask.Cols(), p.Mask.Rows())
		}
		sb, _, err := sync.Box(frame)
		if err != nil {
			t.Fatal(err)
		}
		lastLive, lastSync = box, sb
		time.Sleep(33 * time.Millisecond) // a 30 fps source
	}
	t.Logf("first box at frame %d; slowest Box %v; last boxes live %v, synchronous %v", firstBox, slowest,
		lastLive, lastSync)
	if firstBox < 0 || firstBox > 10 {
		t.Errorf("first live box at frame %d; want within 10 frames", firstBox)
	}
	if d := math.Abs(float64(lastLive.Min.Y-lastSync.Min.Y)) + math.Abs(float64(lastLive.Dy()-lastSync.Dy())); d > 0.1*float64(lastSync.Dy()) {
		t.Errorf("live box %v, synchronous %v: want them within 10%% of the box height", lastLive, lastSync)
	}
}

// newTestFramer makes a framer with the repository's person models, closed
// at the end of the test (before matleak's check, which was registered first).
func newTestFramer(tb testing.TB, opts FramingOptions) *Framer {
	tb.Helper()
	opts.Person.Dir = repotest.PersonModels(tb)
	opts.Person.LibraryPath = repotest.LibraryPath(tb)
	f, err := NewFramer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}
