package live

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"mgvton/inference"
	"mgvton/internal/matleak"
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
