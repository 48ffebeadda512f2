package live

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"mgvton/inference"
	"mgvton/internal/matleak"
	"mgvton/ui"
)

// TestSessionReusesReleasedImages: the display sink converts into images
// the window gave back, and the snapshot is the latest try-on, kept
// without a copy per frame.
func TestSessionReusesReleasedImages(t *testing.T) {
	matleak.Check(t)
	s := NewSession(SessionOptions{Display: true})
	defer s.Close()
	if err := s.Snapshot(filepath.Join(t.TempDir(), "none.png")); err == nil {
		t.Error("Snapshot before any result: got no error")
	}
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(10, 20, 30, 0), 48, 64, gocv.MatTypeCV8UC3)
	defer frame.Close()
	tryon := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(200, 100, 50, 0), 48, 64, gocv.MatTypeCV8UC3)
	defer tryon.Close()
	deliver := func() {
		s.deliver(inference.Result{Frame: frame.Clone(), TryOn: tryon.Clone(), Person: true, Applied: true}, inference.Stats{})
	}

	deliver()
	f := <-s.Frames()
	cam, try := f.Camera, f.TryOn
	f.Release()
	deliver()
	g := <-s.Frames()
	if g.Camera != cam || g.TryOn != try {
		t.Error("second frame: got new images; want the two released ones reused")
	}
	// Camera is BGR (30, 20, 10) as RGBA; try-on (50, 100, 200).
	if px := g.TryOn.At(3, 3); px != g.TryOn.At(0, 0) {
		t.Errorf("try-on not uniform: %v", px)
	}
	if r, gg, b, _ := g.TryOn.At(0, 0).RGBA(); r>>8 != 50 || gg>>8 != 100 || b>>8 != 200 {
		t.Errorf("try-on pixel: got %d %d %d; want 50 100 200", r>>8, gg>>8, b>>8)
	}
	if r, gg, b, _ := g.Camera.At(0, 0).RGBA(); r>>8 != 30 || gg>>8 != 20 || b>>8 != 10 {
		t.Errorf("camera pixel: got %d %d %d; want 30 20 10", r>>8, gg>>8, b>>8)
	}
	g.Release()

	path := filepath.Join(t.TempDir(), "snap.png")
	if err := s.Snapshot(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Fatalf("snapshot: %v; want a PNG", err)
	}
	got := gocv.IMRead(path, gocv.IMReadColor)
	defer got.Close()
	if got.Cols() != 64 || got.GetVecbAt(0, 0)[0] != 200 {
		t.Errorf("snapshot: got %dx%d first blue %d; want the 64x48 try-on (blue 200)", got.Cols(), got.Rows(), got.GetVecbAt(0, 0)[0])
	}
}

// TestSessionScalesTheDisplayToThePanes: after SetDisplaySize the window
// gets pictures that fit its panes (aspect kept, averaged, never scaled
// up), a camera picture shown in both panes fits the larger one, and the
// snapshot keeps the full size.
func TestSessionScalesTheDisplayToThePanes(t *testing.T) {
	matleak.Check(t)
	s := NewSession(SessionOptions{Display: true})
	defer s.Close()
	// 1280x720, black left of x = 643 and red (BGR 0, 0, 255) from there:
	// a scaled picture is still split in two, and averaging gives the
	// column on the edge (643 * 460/1280 = 231.07) a mix.
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), 720, 1280, gocv.MatTypeCV8UC3)
	defer frame.Close()
	right := frame.Region(image.Rect(643, 0, 1280, 720))
	right.SetTo(gocv.NewScalar(0, 0, 255, 0))
	right.Close()
	deliver := func(applied bool) ui.Frame {
		res := inference.Result{Frame: frame.Clone(), Person: true, Applied: applied}
		if applied {
			res.TryOn = frame.Clone()
		}
		s.deliver(res, inference.Stats{})
		return <-s.Frames()
	}

	f := deliver(true)
	if f.Camera.Bounds().Size() != image.Pt(1280, 720) || f.TryOn.Bounds().Size() != image.Pt(1280, 720) {
		t.Errorf("no display size set: got %v and %v; want full size", f.Camera.Bounds(), f.TryOn.Bounds())
	}
	f.Release()

	s.SetDisplaySize(image.Pt(460, 400), image.Pt(2000, 300))
	f = deliver(true)
	if got := f.Camera.Bounds().Size(); got != image.Pt(460, 259) {
		t.Errorf("camera in a 460x400 pane: got %v; want 460x259", got)
	}
	if got := f.TryOn.Bounds().Size(); got != image.Pt(533, 300) {
		t.Errorf("try-on in a 2000x300 pane: got %v; want 533x300", got)
	}
	cam := f.Camera.(*image.RGBA)
	if r, _, _, _ := cam.At(100, 100).RGBA(); r != 0 {
		t.Errorf("left half: red %d; want 0", r>>8)
	}
	if r, _, _, _ := cam.At(400, 100).RGBA(); r>>8 != 255 {
		t.Errorf("right half: red %d; want 255", r>>8)
	}
	if r, _, _, _ := cam.At(231, 100).RGBA(); r>>8 == 0 || r>>8 == 255 {
		t.Errorf("the column on the edge: red %d; want a mix (area averaging)", r>>8)
	}
	f.Release()

	// Before the first try-on the camera picture fills both panes: it fits
	// in 2000x400, the larger of each side.
	f = deliver(false)
	if got := f.Camera.Bounds().Size(); got != image.Pt(711, 400) {
		t.Errorf("camera alone: got %v; want 711x400", got)
	}
	f.Release()

	// Panes larger than the frame: full size, never scaled up.
	s.SetDisplaySize(image.Pt(4000, 4000), image.Pt(4000, 4000))
	f = deliver(true)
	if got := f.TryOn.Bounds().Size(); got != image.Pt(1280, 720) {
		t.Errorf("large panes: got %v; want 1280x720", got)
	}
	f.Release()

	path := filepath.Join(t.TempDir(), "snap.png")
	if err := s.Snapshot(path); err != nil {
		t.Fatal(err)
	}
	got := gocv.IMRead(path, gocv.IMReadColor)
	defer got.Close()
	if got.Cols() != 1280 || got.Rows() != 720 {
		t.Errorf("snapshot: got %dx%d; want 1280x720", got.Cols(), got.Rows())
	}
}

// A source slower than the stall time (a slide show) is not taken for
// stalled between two of its frames.
func TestStallLimit(t *testing.T) {
	for _, tt := range []struct {
		fps  float64
		want time.Duration
	}{{30, stallAfter}, {0, stallAfter}, {1, stallAfter}, {0.1, 30 * time.Second}} {
		if got := stallLimit(tt.fps); got != tt.want {
			t.Errorf("stallLimit(%g) = %v; want %v", tt.fps, got, tt.want)
		}
	}
}
