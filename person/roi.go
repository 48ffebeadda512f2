package person

import (
	"image"
	"math"

	"gocv.io/x/gocv"
)

// roi is a square, rotated region of interest in frame pixels. Frame and
// tensor coordinates are OpenCV pixel coordinates throughout (pixel i's
// centre is at i), as in MediaPipe, whose crop (a perspective warp from
// the region's corners to the tensor's corners) and landmark projection
// (raw / size across the region) use the same convention, so a landmark
// the model puts on tensor pixel i lands on the frame pixel that pixel i
// was sampled from. It may leave the frame: the crop is then padded.
type roi struct {
	CX, CY, Size float64
	Rot          float64 // radians, clockwise in image coordinates
}

// roiScale is how much the region around the alignment points is
// enlarged (MediaPipe's RectTransformationCalculator, scale 1.25).
const roiScale = 1.25

// roiFromPoints places a region as MediaPipe's AlignmentPointsRects and
// RectTransformation calculators do: centred on (x0, y0), twice the distance
// to (x1, y1) across (times roiScale), rotated so that the direction from
// the first point to the second points up.
func roiFromPoints(x0, y0, x1, y1 float64) roi {
	size := 2 * math.Hypot(x1-x0, y1-y0) * roiScale
	rot := normalizeRadians(math.Pi/2 - math.Atan2(-(y1-y0), x1-x0))
	return roi{CX: x0, CY: y0, Size: size, Rot: rot}
}

func normalizeRadians(a float64) float64 {
	return a - 2*math.Pi*math.Floor((a+math.Pi)/(2*math.Pi))
}

// toFrame maps normalised region coordinates (0..1 across the square,
// before rotation) to frame coordinates.
func (r roi) toFrame(u, v float64) (x, y float64) {
	a, b := (u-0.5)*r.Size, (v-0.5)*r.Size
	c, s := math.Cos(r.Rot), math.Sin(r.Rot)
	return r.CX + c*a - s*b, r.CY + s*a + c*b
}

// tensorToFrame returns the 2x3 affine matrix (CV64F) that maps pixel
// coordinates of an n x n tensor of the region to frame pixel coordinates:
// tensor pixel i is at i / n across the region.
func (r roi) tensorToFrame(n int) gocv.Mat {
	k := r.Size / float64(n)
	c, s := math.Cos(r.Rot)*k, math.Sin(r.Rot)*k
	ox, oy := r.toFrame(0, 0)
	m := gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F)
	m.SetDoubleAt(0, 0, c)
	m.SetDoubleAt(0, 1, -s)
	m.SetDoubleAt(0, 2, ox)
	m.SetDoubleAt(1, 0, s)
	m.SetDoubleAt(1, 1, c)
	m.SetDoubleAt(1, 2, oy)
	return m
}

// bounds is the region's bounding box in frame pixels.
func (r roi) bounds() image.Rectangle {
	x0, y0 := math.Inf(1), math.Inf(1)
	x1, y1 := math.Inf(-1), math.Inf(-1)
	for _, c := range [4][2]float64{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
		x, y := r.toFrame(c[0], c[1])
		x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
	}
	return image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1)), int(math.Ceil(y1)))
}
