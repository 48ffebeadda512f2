package inference

import (
	"image"
	"math"
	"testing"

	"gocv.io/x/gocv"

	"mgvton/internal/matleak"
)

func TestBoxForFace(t *testing.T) {
	o := DefaultFraming()
	cases := []struct {
		name string
		face rectF
		want image.Rectangle
	}{
		// Face 60 px high: box 384 high, 288 wide, its top 34 px above the face.
		{"centred", rectF{290, 100, 60, 60}, image.Rect(176, 66, 464, 450)},
		// Near the frame's top-left the box extends past the frame (padded crop).
		{"past the edges", rectF{0, 10, 60, 60}, image.Rect(-114, -24, 174, 360)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := boxForFace(c.face, o).round()
			if got != c.want {
				t.Errorf("box: got %v; want %v", got, c.want)
			}
			if r := float64(got.Dx()) / float64(got.Dy()); r < 0.74 || r > 0.76 {
				t.Errorf("aspect %.3f; want 3:4", r)
			}
		})
	}
}

func TestCropPadsABoxPastTheFrame(t *testing.T) {
	matleak.Check(t)
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(10, 20, 30, 0), 120, 160, gocv.MatTypeCV8UC3)
	defer frame.Close()
	c := newCropper(48, 64)
	defer c.close()
	box := image.Rect(-30, -40, 60, 80) // 90x120, mostly above and left of the frame
	if err := c.load(frame, box); err != nil {
		t.Fatal(err)
	}
	// Edge replication of a flat frame is flat: every value is the frame's.
	want := float32(30)/127.5 - 1 // red plane holds the R of BGR (10, 20, 30)
	if got := c.person[0]; got < want-1e-5 || got > want+1e-5 {
		t.Errorf("padded crop red: got %v; want %v", got, want)
	}
	comp := NewCompositor(48, 64)
	defer comp.Close()
	if err := comp.Composite(&frame, tensors{TensorTryOn: make([]float32, 3*48*64)}, nil, box, nil); err != nil {
		t.Fatalf("paste of a box past the frame: %v", err)
	}
	if err := c.load(frame, image.Rect(200, 200, 290, 320)); err == nil {
		t.Error("crop box fully outside the frame: got no error")
	}
}

func TestFramerSmoothsAndHolds(t *testing.T) {
	matleak.Check(t)
	f := newTestFramer(t, FramingOptions{BoxHeightFaces: 5, TopFaces: 1, Smoothing: 0.5, HoldFrames: 2, DetectWidth: 320})
	b1, ok := f.update(rectF{100, 100, 40, 40}, true, 640, 480)
	if !ok || b1 != image.Rect(45, 60, 195, 260) {
		t.Fatalf("first box: got %v %v; want (45,60)-(195,260) true", b1, ok)
	}
	// The face jumps 40 px right: the box moves half way.
	b2, _ := f.update(rectF{140, 100, 40, 40}, true, 640, 480)
	if b2.Min.X != 65 {
		t.Errorf("smoothed x: got %d; want 65", b2.Min.X)
	}
	for i := 1; i <= 2; i++ {
		if b, ok := f.update(rectF{}, false, 640, 480); !ok || b != b2 {
			t.Errorf("miss %d: got %v %v; want the held box %v", i, b, ok, b2)
		}
	}
	if _, ok := f.update(rectF{}, false, 640, 480); ok {
		t.Errorf("after HoldFrames misses: got a box; want none")
	}
}

func TestFramerFollowsItsFaceNotStrayDetections(t *testing.T) {
	matleak.Check(t)
	f := newTestFramer(t, DefaultFraming())
	small, big := rectF{400, 50, 30, 30}, rectF{100, 100, 40, 40}
	face, ok := f.pick([]rectF{small, big})
	if !ok || face != big {
		t.Fatalf("no track yet: got %v %v; want the largest face %v", face, ok, big)
	}
	f.update(face, true, 640, 480)
	near := rectF{108, 104, 42, 42}
	cases := []struct {
		name  string
		faces []rectF
		want  rectF
		found bool
	}{
		{"nearest of several", []rectF{{300, 300, 44, 44}, near}, near, true},
		{"far away only", []rectF{{300, 300, 40, 40}}, rectF{}, false},
		{"near but three times the size", []rectF{{90, 90, 120, 120}}, rectF{}, false},
		{"none", nil, rectF{}, false},
	}
	for _, c := range cases {
		got, found := f.pick(c.faces)
		if found != c.found || got != c.want {
			t.Errorf("%s: got %v %v; want %v %v", c.name, got, found, c.want, c.found)
		}
	}
}

func TestFramerFindsNobodyInABlankFrame(t *testing.T) {
	matleak.Check(t)
	f := newTestFramer(t, DefaultFraming())
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(120, 130, 140, 0), 480, 640, gocv.MatTypeCV8UC3)
	defer frame.Close()
	if b, ok := f.Box(frame); ok {
		t.Errorf("blank frame: got box %v; want none", b)
	}
}

func TestNewFramerBadCascade(t *testing.T) {
	if _, err := NewFramer("testdata/person.png", DefaultFraming()); err == nil {
		t.Fatal("NewFramer with a PNG as cascade: got no error")
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

// TestFramerTrackingWindowMatchesFullSearch runs the demo clip through a
// framer that searches the whole frame every time and one that searches a
// window around the tracked face: the boxes must agree.
func TestFramerTrackingWindowMatchesFullSearch(t *testing.T) {
	matleak.Check(t)
	vc, err := gocv.VideoCaptureFile("../assets/demo.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	fullOpts := DefaultFraming()
	fullOpts.FullEvery = 0
	full := newTestFramer(t, fullOpts)
	tracked := newTestFramer(t, DefaultFraming())
	frame := gocv.NewMat()
	defer frame.Close()
	// The whole-frame search itself jitters by several percent from frame to
	// frame (the cascade's scales are 15% apart), so the two must agree to
	// within that, not exactly.
	frames, disagree, both, worst, sum := 0, 0, 0, 0.0, 0.0
	for frames < 150 && vc.Read(&frame) && !frame.Empty() {
		frames++
		a, okA := full.Box(frame)
		b, okB := tracked.Box(frame)
		if okA != okB {
			disagree++
			continue
		}
		if okA {
			d := math.Hypot(float64(a.Min.X+a.Max.X-b.Min.X-b.Max.X)/2, float64(a.Min.Y+a.Max.Y-b.Min.Y-b.Max.Y)/2)
			diff := math.Max(d, math.Abs(float64(a.Dy()-b.Dy()))) / float64(a.Dy())
			worst, sum, both = math.Max(worst, diff), sum+diff, both+1
		}
	}
	if frames < 100 || both == 0 {
		t.Fatalf("demo clip: read %d frames, %d with a person; want at least 100 with one", frames, both)
	}
	mean := sum / float64(both)
	t.Logf("%d frames: found/lost differ on %d; box difference mean %.3f, largest %.3f box heights",
		frames, disagree, mean, worst)
	if disagree > frames/50 || mean > 0.04 || worst > 0.1 {
		t.Errorf("tracking window: found/lost differ on %d of %d frames, box off by %.3f on average and %.3f "+
			"at most (box heights); want at most 2%%, 0.04 and 0.1", disagree, frames, mean, worst)
	}
}

// newTestFramer makes a framer with the default cascade, closed at the end
// of the test (before matleak's check, which was registered first).
func newTestFramer(tb testing.TB, opts FramingOptions) *Framer {
	tb.Helper()
	f, err := NewFramer("", opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}
