package capture

import (
	"image"

	"gocv.io/x/gocv"
)

// SideBySide draws left and right next to each other into dst (BGR, 8UC3),
// at the height of left: right is scaled to that height keeping its aspect
// ratio. An empty side is drawn as a black panel the size of the other one;
// if both are empty dst becomes empty. left and right may be BGR, BGRA or
// gray. dst is reallocated only when its size or type must change, so a
// caller can reuse one Mat for a whole stream; it must not be left or right.
func SideBySide(dst *gocv.Mat, left, right gocv.Mat) {
	h := left.Rows()
	if left.Empty() {
		h = right.Rows()
	}
	if h == 0 {
		if !dst.Empty() {
			old := *dst
			*dst = gocv.NewMat()
			old.Close()
		}
		return
	}
	scaledWidth := func(m gocv.Mat) int {
		return max(1, (m.Cols()*h+m.Rows()/2)/m.Rows())
	}
	var lw, rw int
	switch {
	case left.Empty():
		rw = scaledWidth(right)
		lw = rw
	case right.Empty():
		lw = left.Cols()
		rw = lw
	default:
		lw, rw = left.Cols(), scaledWidth(right)
	}
	if dst.Rows() != h || dst.Cols() != lw+rw || dst.Type() != gocv.MatTypeCV8UC3 {
		old := *dst
		*dst = gocv.NewMatWithSize(h, lw+rw, gocv.MatTypeCV8UC3)
		old.Close()
	}
	drawPanel(dst, image.Rect(0, 0, lw, h), left)
	drawPanel(dst, image.Rect(lw, 0, lw+rw, h), right)
}

// drawPanel fills rect of dst with src, converted to BGR and scaled to fit,
// or with black if src is empty.
func drawPanel(dst *gocv.Mat, rect image.Rectangle, src gocv.Mat) {
	roi := dst.Region(rect)
	defer roi.Close()
	if src.Empty() {
		roi.SetTo(gocv.NewScalar(0, 0, 0, 0))
		return
	}
	if src.Type() != gocv.MatTypeCV8UC3 {
		bgr := src.Clone()
		defer bgr.Close()
		if err := toBGR(&bgr); err != nil {
			// Not an image type: show a visible placeholder rather than stale pixels.
			roi.SetTo(gocv.NewScalar(255, 0, 255, 0))
			return
		}
		src = bgr
	}
	if src.Cols() == rect.Dx() && src.Rows() == rect.Dy() {
		src.CopyTo(&roi)
		return
	}
	gocv.Resize(src, &roi, rect.Size(), 0, 0, gocv.InterpolationLinear)
}
