package capture

import (
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"mgvton/internal/matleak"
)

// dataAddr is the address of a Mat's first pixel.
func dataAddr(tb testing.TB, m gocv.Mat) *uint8 {
	tb.Helper()
	pix, err := m.DataPtrUint8()
	if err != nil || len(pix) == 0 {
		tb.Fatalf("frame data: %v", err)
	}
	return &pix[0]
}

// TestVideoSourceDecodesIntoRecycledMats: a Mat given back is decoded into
// again (same pixels, new picture); one given back after Close is closed
// (matleak).
func TestVideoSourceDecodesIntoRecycledMats(t *testing.T) {
	matleak.Check(t)
	path := filepath.Join(t.TempDir(), "r.mp4")
	makeVideo(t, path, 10, 30, "64x48")
	src, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, ok := src.(Recycler)
	if !ok {
		t.Fatalf("%T does not implement Recycler", src)
	}
	f1, err := src.Read()
	if err != nil {
		t.Fatal(err)
	}
	addr := dataAddr(t, f1.Mat)
	first := f1.Mat.Clone()
	defer first.Close()
	f2 := f1
	for i := 1; i <= 5; i++ { // testsrc2 changes little between neighbours
		rec.Recycle(f2.Mat)
		if f2, err = src.Read(); err != nil {
			t.Fatal(err)
		}
		if got := dataAddr(t, f2.Mat); got != addr {
			t.Errorf("frame %d: got new pixels; want the recycled Mat's", i)
		}
	}
	if f2.Seq != 5 || f2.Mat.Cols() != 64 || f2.Mat.Rows() != 48 || f2.Mat.Type() != gocv.MatTypeCV8UC3 {
		t.Errorf("frame 5: seq %d %dx%d type %v; want seq 5 64x48 8UC3", f2.Seq, f2.Mat.Cols(), f2.Mat.Rows(), f2.Mat.Type())
	}
	diff := gocv.NewMat()
	defer diff.Close()
	gocv.AbsDiff(first, f2.Mat, &diff)
	if gray := diff.Sum(); gray.Val1+gray.Val2+gray.Val3 == 0 {
		t.Error("frame 5 equals frame 0: want the next pictures decoded")
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	rec.Recycle(f2.Mat) // after Close: closed, not kept
}
