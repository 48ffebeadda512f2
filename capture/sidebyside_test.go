package capture

import (
	"image"
	"testing"

	"gocv.io/x/gocv"

	"mgvton/internal/matleak"
)

func TestSideBySide(t *testing.T) {
	matleak.Check(t)
	grey := func(v float64, w, h int, typ gocv.MatType) gocv.Mat {
		return gocv.NewMatWithSizeFromScalar(gocv.NewScalar(v, v, v, 255), h, w, typ)
	}
	tests := []struct {
		name        string
		left, right gocv.Mat
		wantSize    image.Point
		wantSplit   int     // width of the left panel
		wantL       float64 // grey of the left panel
		wantR       float64
	}{
		{"same size", grey(50, 64, 48, gocv.MatTypeCV8UC3), grey(200, 64, 48, gocv.MatTypeCV8UC3), image.Pt(128, 48), 64, 50, 200},
		{"right scaled to the left's height", grey(50, 64, 48, gocv.MatTypeCV8UC3), grey(200, 60, 96, gocv.MatTypeCV8UC3), image.Pt(94, 48), 64, 50, 200},
		{"gray and BGRA", grey(50, 64, 48, gocv.MatTypeCV8UC1), grey(200, 64, 48, gocv.MatTypeCV8UC4), image.Pt(128, 48), 64, 50, 200},
		{"no result yet", grey(50, 64, 48, gocv.MatTypeCV8UC3), gocv.NewMat(), image.Pt(128, 48), 64, 50, 0},
		{"no camera frame", gocv.NewMat(), grey(200, 32, 24, gocv.MatTypeCV8UC3), image.Pt(64, 24), 32, 0, 200},
	}
	dst := gocv.NewMat() // reused across cases, as a caller would
	defer dst.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.left.Close()
			defer tt.right.Close()
			SideBySide(&dst, tt.left, tt.right)
			if got := image.Pt(dst.Cols(), dst.Rows()); got != tt.wantSize || dst.Type() != gocv.MatTypeCV8UC3 {
				t.Fatalf("got %v %v; want %v 8UC3", got, dst.Type(), tt.wantSize)
			}
			for _, p := range []struct {
				r    image.Rectangle
				want float64
			}{
				{image.Rect(0, 0, tt.wantSplit, tt.wantSize.Y), tt.wantL},
				{image.Rect(tt.wantSplit, 0, tt.wantSize.X, tt.wantSize.Y), tt.wantR},
			} {
				roi := dst.Region(p.r)
				got := roi.Mean()
				roi.Close()
				if got.Val1 != p.want || got.Val2 != p.want || got.Val3 != p.want {
					t.Errorf("panel %v: got %v; want grey %v", p.r, got, p.want)
				}
			}
		})
	}
	t.Run("both empty", func(t *testing.T) {
		l, r := gocv.NewMat(), gocv.NewMat()
		defer l.Close()
		defer r.Close()
		SideBySide(&dst, l, r)
		if !dst.Empty() {
			t.Errorf("got %dx%d; want empty", dst.Cols(), dst.Rows())
		}
	})
}
