package inference

import (
	"encoding/binary"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"mgvton/internal/repotest"
)

// fixtureDir is the small model made by testdata/make_fixtures.py.
const fixtureDir = "testdata/tiny"

// loadFixture loads a fixture model and closes it at the end of the test.
func loadFixture(tb testing.TB, dir string) *Model {
	tb.Helper()
	m, err := LoadModel(dir, Options{LibraryPath: repotest.LibraryPath(tb)})
	if err != nil {
		tb.Fatalf("LoadModel(%s): %v", dir, err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// readImage reads a test image and closes it at the end of the test.
func readImage(tb testing.TB, path string, flags gocv.IMReadFlag) gocv.Mat {
	tb.Helper()
	m := gocv.IMRead(path, flags)
	if m.Empty() {
		tb.Fatalf("read %s: empty", path)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// readRef reads a float32 little-endian reference tensor.
func readRef(tb testing.TB, name string) []float32 {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]float32, len(data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return out
}

// maxAbsDiff returns the largest |a-b|; lengths must match.
func maxAbsDiff(tb testing.TB, a, b []float32) float64 {
	tb.Helper()
	if len(a) != len(b) {
		tb.Fatalf("length: got %d; want %d", len(a), len(b))
	}
	worst := 0.0
	for i := range a {
		worst = math.Max(worst, math.Abs(float64(a[i])-float64(b[i])))
	}
	return worst
}

// fixtureGarment prepares the fixture garment for m.
func fixtureGarment(tb testing.TB, m *Model) *Garment {
	tb.Helper()
	img := readImage(tb, "testdata/garment.png", gocv.IMReadColor)
	mask := readImage(tb, "testdata/garment_mask.png", gocv.IMReadGrayScale)
	g, err := m.PrepareGarment(t0ctx, "fixture", img, mask)
	if err != nil {
		tb.Fatalf("PrepareGarment: %v", err)
	}
	return g
}

func imageRect(w, h int) image.Rectangle { return image.Rect(0, 0, w, h) }
