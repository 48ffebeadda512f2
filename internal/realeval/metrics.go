// Package realeval measures a try-on model on real photos and video frames
// of people, without ground truth: it runs the app's own pipeline
// (inference.Pipeline.Process, as `tryon` and `video` do) and reports
// proxies of what a user sees: whether the person was found, whether the
// face stays sharp and unchanged, whether the room outside the person stays
// untouched, how much of the torso the garment covers, how much of the
// garment falls outside the person, and how steady the garment is from one
// video frame to the next. It writes report.json, report.md and a contact
// sheet.
package realeval

import (
	"image"
	"image/color"
	"math"

	"gocv.io/x/gocv"

	"mgvton/inference"
)

// FrameMetrics is the measurement of one picture. Pointer fields are null in JSON
// when the measure does not apply (no person, no face, no previous frame).
type FrameMetrics struct {
	Name   string `json:"name"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	// PersonFound: the person models found a body in this picture.
	PersonFound bool `json:"person_found"`
	// Held: nobody was found but the framer still held the crop of an
	// earlier frame (the picture then passes through).
	Held bool `json:"held"`
	// Applied: a try-on was composited.
	Applied bool `json:"applied"`
	// Segmented: the body-aware composite was used (not the whole-crop paste).
	Segmented bool `json:"segmented"`
	// FaceSharpness is the Laplacian variance of the face region in the
	// output over the input's (1 = as sharp).
	FaceSharpness *float64 `json:"face_sharpness_ratio"`
	// FaceSSIM is the SSIM of the face region, output against input.
	FaceSSIM *float64 `json:"face_ssim"`
	// BackgroundChange is the mean absolute change (0..255, over the three
	// channels) of the pixels outside the person mask.
	BackgroundChange *float64 `json:"background_mean_abs_change"`
	// FrameChange is the mean absolute change over the whole frame.
	FrameChange float64 `json:"frame_mean_abs_change"`
	// TorsoCoverage is the share of the torso (polygon from the keypoints,
	// on the person mask) that the model's garment mask covers.
	TorsoCoverage *float64 `json:"torso_coverage"`
	// TorsoReplaced is the share of that torso the composite replaced
	// (alpha >= 0.5).
	TorsoReplaced *float64 `json:"torso_replaced"`
	// GarmentOutside is the share of the model's garment mask (in the
	// frame) that lies outside the person mask.
	GarmentOutside *float64 `json:"garment_outside_person"`
	// GarmentIoUPrev is the IoU of the composited region with the previous
	// frame's (video only).
	GarmentIoUPrev *float64 `json:"garment_iou_prev"`

	// Face is the face box measured, in frame pixels (empty: none).
	Face image.Rectangle `json:"face_box"`
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// faceBox returns the face region of a body in frame pixels, clipped to
// the frame: a square around the nose and the ears that are seen, at least
// a third of the shoulder width, reaching down past the chin.
func faceBox(b *inference.Body, w, h int) image.Rectangle {
	if b.Nose.Score < inference.MinKeypointScore {
		return image.Rectangle{}
	}
	x0, y0, x1, y1 := b.Nose.X, b.Nose.Y, b.Nose.X, b.Nose.Y
	for _, k := range []inference.Keypoint{b.LeftEar, b.RightEar} {
		if k.Score >= inference.MinKeypointScore {
			x0, y0, x1, y1 = min(x0, k.X), min(y0, k.Y), max(x1, k.X), max(y1, k.Y)
		}
	}
	sw := math.Hypot(b.LeftShoulder.X-b.RightShoulder.X, b.LeftShoulder.Y-b.RightShoulder.Y)
	side := 1.5 * max(x1-x0, y1-y0, 0.35*sw)
	cx, cy := (x0+x1)/2, (y0+y1)/2
	r := image.Rect(int(cx-side/2), int(cy-0.8*side), int(cx+side/2), int(cy+0.5*side))
	r = r.Intersect(image.Rect(0, 0, w, h))
	if r.Dx() < 12 || r.Dy() < 12 {
		return image.Rectangle{}
	}
	return r
}

// laplacianVar returns the variance of the Laplacian of the grey region r.
func laplacianVar(gray gocv.Mat, r image.Rectangle) float64 {
	roi := gray.Region(r)
	defer roi.Close()
	lap, mean, std := gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	defer lap.Close()
	defer mean.Close()
	defer std.Close()
	gocv.Laplacian(roi, &lap, gocv.MatTypeCV64F, 3, 1, 0, gocv.BorderReplicate)
	gocv.MeanStdDev(lap, &mean, &std)
	s := std.GetDoubleAt(0, 0)
	return s * s
}

// ssim returns the mean SSIM of two grey regions (Gaussian window, sigma
// 1.5, the usual constants for 8-bit pictures).
func ssim(a, b gocv.Mat, r image.Rectangle) float64 {
	ra, rb := a.Region(r), b.Region(r)
	defer ra.Close()
	defer rb.Close()
	x, y := gocv.NewMat(), gocv.NewMat()
	defer x.Close()
	defer y.Close()
	ra.ConvertTo(&x, gocv.MatTypeCV32F)
	rb.ConvertTo(&y, gocv.MatTypeCV32F)
	blur := func(src gocv.Mat) gocv.Mat {
		d := gocv.NewMat()
		gocv.GaussianBlur(src, &d, image.Pt(11, 11), 1.5, 1.5, gocv.BorderReplicate)
		return d
	}
	mul := func(p, q gocv.Mat) gocv.Mat {
		d := gocv.NewMat()
		gocv.Multiply(p, q, &d)
		return d
	}
	xx, yy, xy := mul(x, x), mul(y, y), mul(x, y)
	defer xx.Close()
	defer yy.Close()
	defer xy.Close()
	mx, my, sxx, syy, sxy := blur(x), blur(y), blur(xx), blur(yy), blur(xy)
	defer mx.Close()
	defer my.Close()
	defer sxx.Close()
	defer syy.Close()
	defer sxy.Close()
	const c1, c2 = (0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255)
	n := r.Dx() * r.Dy()
	fmx, _ := mx.DataPtrFloat32()
	fmy, _ := my.DataPtrFloat32()
	fxx, _ := sxx.DataPtrFloat32()
	fyy, _ := syy.DataPtrFloat32()
	fxy, _ := sxy.DataPtrFloat32()
	sum := 0.0
	for i := 0; i < n; i++ {
		ux, uy := float64(fmx[i]), float64(fmy[i])
		vx, vy, cxy := float64(fxx[i])-ux*ux, float64(fyy[i])-uy*uy, float64(fxy[i])-ux*uy
		sum += ((2*ux*uy + c1) * (2*cxy + c2)) / ((ux*ux + uy*uy + c1) * (vx + vy + c2))
	}
	return sum / float64(n)
}

// meanAbsChange returns the mean absolute difference (0..255, over the
// three channels) of a and b (BGR, same size) where sel is true (sel nil:
// everywhere), and the number of pixels counted.
func meanAbsChange(a, b gocv.Mat, sel func(i int) bool) (float64, int) {
	pa, _ := a.DataPtrUint8()
	pb, _ := b.DataPtrUint8()
	n := a.Cols() * a.Rows()
	sum, count := 0, 0
	for i := 0; i < n; i++ {
		if sel != nil && !sel(i) {
			continue
		}
		for c := 0; c < 3; c++ {
			d := int(pa[3*i+c]) - int(pb[3*i+c])
			if d < 0 {
				d = -d
			}
			sum += d
		}
		count++
	}
	if count == 0 {
		return math.NaN(), 0
	}
	return float64(sum) / float64(3*count), count
}

// Measure computes the proxies for one processed picture. prev is the
// previous frame's composited region (8UC1, frame-sized, or an empty Mat);
// Measure returns this frame's region (the caller closes it).
func Measure(name string, res *inference.Result, prev gocv.Mat) (FrameMetrics, gocv.Mat) {
	w, h := res.Frame.Cols(), res.Frame.Rows()
	f := FrameMetrics{Name: name, Width: w, Height: h, PersonFound: res.Body != nil, Applied: res.Applied,
		Segmented: res.Masks.Segmented, Held: res.Person && !res.Applied}
	f.FrameChange, _ = meanAbsChange(res.Frame, res.TryOn, nil)
	region := gocv.NewMat()
	if res.Body == nil {
		if res.Masks.Alpha.Ptr() != nil {
			gocv.Threshold(res.Masks.Alpha, &region, 127, 255, gocv.ThresholdBinary)
		}
		f.GarmentIoUPrev = iou(prev, region)
		return f, region
	}
	person, _ := res.Body.Mask.DataPtrUint8()
	outside := func(i int) bool { return person[i] < inference.PersonThreshold }
	bg, _ := meanAbsChange(res.Frame, res.TryOn, outside)
	f.BackgroundChange = ptr(bg)

	if r := faceBox(res.Body, w, h); !r.Empty() {
		f.Face = r
		gi, go_ := gocv.NewMat(), gocv.NewMat()
		gocv.CvtColor(res.Frame, &gi, gocv.ColorBGRToGray)
		gocv.CvtColor(res.TryOn, &go_, gocv.ColorBGRToGray)
		if vin := laplacianVar(gi, r); vin > 1e-9 {
			f.FaceSharpness = ptr(laplacianVar(go_, r) / vin)
		}
		f.FaceSSIM = ptr(ssim(gi, go_, r))
		gi.Close()
		go_.Close()
	}
	if res.Masks.Alpha.Ptr() == nil {
		return f, region
	}
	gocv.Threshold(res.Masks.Alpha, &region, 127, 255, gocv.ThresholdBinary)
	f.GarmentIoUPrev = iou(prev, region)
	garment, _ := res.Masks.Garment.DataPtrUint8()
	alpha, _ := res.Masks.Alpha.DataPtrUint8()
	if poly, ok := res.Body.Torso(); ok {
		torso := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC1)
		torso.SetTo(gocv.Scalar{})
		pv := gocv.NewPointsVectorFromPoints([][]image.Point{poly})
		gocv.FillPoly(&torso, pv, color.RGBA{255, 255, 255, 0})
		pv.Close()
		tp, _ := torso.DataPtrUint8()
		n, cov, rep := 0, 0, 0
		for i, t := range tp {
			if t == 0 || person[i] < inference.PersonThreshold {
				continue
			}
			n++
			if garment[i] >= 128 {
				cov++
			}
			if alpha[i] >= 128 {
				rep++
			}
		}
		torso.Close()
		if n > 0 {
			f.TorsoCoverage = ptr(float64(cov) / float64(n))
			f.TorsoReplaced = ptr(float64(rep) / float64(n))
		}
	}
	ng, out := 0, 0
	for i, g := range garment {
		if g >= 128 {
			ng++
			if person[i] < inference.PersonThreshold {
				out++
			}
		}
	}
	if ng > 0 {
		f.GarmentOutside = ptr(float64(out) / float64(ng))
	}
	return f, region
}

// iou returns the IoU of two binary masks of one size, or nil when either
// is missing or both are empty.
func iou(a, b gocv.Mat) *float64 {
	if a.Ptr() == nil || b.Ptr() == nil || a.Empty() || b.Empty() || a.Cols() != b.Cols() || a.Rows() != b.Rows() {
		return nil
	}
	pa, _ := a.DataPtrUint8()
	pb, _ := b.DataPtrUint8()
	in, un := 0, 0
	for i := range pa {
		x, y := pa[i] != 0, pb[i] != 0
		if x && y {
			in++
		}
		if x || y {
			un++
		}
	}
	if un == 0 {
		return nil
	}
	return ptr(float64(in) / float64(un))
}
