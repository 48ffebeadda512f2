package garments

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"

	"gocv.io/x/gocv"
)

// workSide is the longest side, in pixels, at which AutoMask segments: the
// catalog stores garments at ImageHeight pixels high, so finer work would
// not show, and GrabCut's cost grows with the pixel count.
const workSide = 640

// debugMask, when set (by tests), is shown each intermediate mask of
// segment at the work size.
var debugMask func(stage string, m gocv.Mat)

func showMask(stage string, m gocv.Mat) {
	if debugMask != nil {
		debugMask(stage, m)
	}
}

// GrabCut pixel classes (cv::GrabCutClasses).
const (
	gcBGD   = 0
	gcFGD   = 1
	gcPRBGD = 2
	gcPRFGD = 3
)

// AutoMask segments the garment in a shop photo: img is 8-bit BGR showing
// one garment on a plain background (near-white in shop photos, but any
// plain colour works). The result is a new 8-bit mask of img's size, 255 on
// the garment and 0 elsewhere; the caller closes it.
//
// The method: estimate the background colour from the image border, mark
// pixels whose CIE Lab distance from it exceeds a threshold set from the
// border's own spread, close and open the marks, keep the largest connected
// component with its holes filled, then let GrabCut move the boundary, with
// the eroded component as sure garment and the far background as sure
// background. It returns ErrNoGarment when nothing stands out from the
// background.
func AutoMask(img gocv.Mat) (gocv.Mat, error) {
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return gocv.Mat{}, fmt.Errorf("garments: auto mask: want a non-empty 8-bit BGR image, got type %v", img.Type())
	}
	w, h := img.Cols(), img.Rows()
	scale := math.Min(1, float64(workSide)/float64(max(w, h)))
	if float64(min(w, h))*scale < MinSide { // a thin strip: keep some rows
		scale = math.Min(1, MinSide/float64(min(w, h)))
	}
	ww, wh := max(1, int(math.Round(float64(w)*scale))), max(1, int(math.Round(float64(h)*scale)))
	work := gocv.NewMat()
	defer work.Close()
	if ww == w && wh == h {
		img.CopyTo(&work)
	} else {
		gocv.Resize(img, &work, image.Pt(ww, wh), 0, 0, gocv.InterpolationArea)
	}

	small, err := segment(work)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("garments: auto mask: %w", err)
	}
	if ww == w && wh == h {
		return small, nil
	}
	defer small.Close()
	mask := gocv.NewMat()
	gocv.Resize(small, &mask, image.Pt(w, h), 0, 0, gocv.InterpolationLinear)
	gocv.Threshold(mask, &mask, 127, 255, gocv.ThresholdBinary)
	return mask, nil
}

// segment computes the mask of work (8-bit BGR, at most workSide a side).
func segment(work gocv.Mat) (gocv.Mat, error) {
	w, h := work.Cols(), work.Rows()
	side := min(w, h)

	// Colour distance from the background, on a lightly smoothed Lab image
	// so that sensor noise and JPEG blocks do not cross the threshold.
	lab := gocv.NewMat()
	defer lab.Close()
	gocv.GaussianBlur(work, &lab, image.Pt(5, 5), 0, 0, gocv.BorderReflect101)
	gocv.CvtColor(lab, &lab, gocv.ColorBGRToLab)
	if !lab.IsContinuous() {
		return gocv.Mat{}, errors.New("lab image not continuous")
	}
	px, err := lab.DataPtrUint8()
	if err != nil {
		return gocv.Mat{}, err
	}
	band := max(2, side/50)
	bg := borderMedian(px, w, h, band)
	dist := make([]float32, w*h)
	for i := range dist {
		dl := (float32(px[3*i]) - bg[0]) * lightWeight
		da := float32(px[3*i+1]) - bg[1]
		db := float32(px[3*i+2]) - bg[2]
		dist[i] = float32(math.Sqrt(float64(dl*dl + da*da + db*db)))
	}
	thresh := borderThreshold(dist, w, h, band)

	fg := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC1)
	defer fg.Close()
	fp, err := fg.DataPtrUint8()
	if err != nil {
		return gocv.Mat{}, err
	}
	for i, d := range dist {
		if d > thresh {
			fp[i] = 255
		} else {
			fp[i] = 0
		}
	}

	// Close gaps (stripes or prints of the background colour that reach
	// the garment's edge), then open away specks of noise.
	closeK := gocv.GetStructuringElement(gocv.MorphEllipse, odd(side/closeDiv))
	defer closeK.Close()
	openK := gocv.GetStructuringElement(gocv.MorphEllipse, odd(side/120))
	defer openK.Close()
	gocv.MorphologyEx(fg, &fg, gocv.MorphClose, closeK)
	showMask("threshold", fg)
	gocv.MorphologyEx(fg, &fg, gocv.MorphOpen, openK)
	rough, ok := largestFilled(fg)
	showMask("rough", rough)
	if !ok {
		rough.Close()
		return gocv.Mat{}, ErrNoGarment
	}
	refined, err := grabCut(work, rough, side)
	if err != nil {
		rough.Close()
		return gocv.Mat{}, err
	}
	if refined.Empty() {
		refined.Close()
		return rough, nil
	}
	showMask("grabcut", refined)
	// GrabCut reopens the gaps that the closing bridged, where the garment
	// has the background's colour: bridge them again.
	gocv.MorphologyEx(refined, &refined, gocv.MorphClose, closeK)
	final, ok := largestFilled(refined)
	refined.Close()
	if !ok {
		final.Close()
		return rough, nil
	}
	refined = final
	showMask("final", refined)
	// GrabCut may give up on a garment whose colours are all found in the
	// background too; trust it only when it stays close to the rough mask.
	if iou := maskIoU(rough, refined); iou < 0.8 {
		refined.Close()
		return rough, nil
	}
	rough.Close()
	return refined, nil
}

// closeDiv sets the closing kernel to the work image's shorter side over
// closeDiv: gaps narrower than that, where a garment's edge has the
// background's colour, are bridged (white stripes up to ~6% of the width).
const closeDiv = 16

// lightWeight scales lightness against the two colour axes in the distance:
// shadows and uneven lighting change lightness more than colour.
const lightWeight = 0.7

// borderMedian returns the per-channel median of the pixels in a band of the
// given width along the four edges of a 3-channel w x h image.
func borderMedian(px []uint8, w, h, band int) [3]float32 {
	var hist [3][256]int
	n := 0
	forBorder(w, h, band, func(i int) {
		for c := 0; c < 3; c++ {
			hist[c][px[3*i+c]]++
		}
		n++
	})
	var med [3]float32
	for c := 0; c < 3; c++ {
		acc := 0
		for v := 0; v < 256; v++ {
			acc += hist[c][v]
			if 2*acc >= n {
				med[c] = float32(v)
				break
			}
		}
	}
	return med
}

// borderThreshold sets the distance above which a pixel is not background,
// from the spread of the distances in the border band: median plus eight
// robust standard deviations, and at least minThresh.
func borderThreshold(dist []float32, w, h, band int) float32 {
	var ds []float32
	forBorder(w, h, band, func(i int) { ds = append(ds, dist[i]) })
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	med := ds[len(ds)/2]
	dev := make([]float32, len(ds))
	for i, d := range ds {
		dev[i] = float32(math.Abs(float64(d - med)))
	}
	sort.Slice(dev, func(i, j int) bool { return dev[i] < dev[j] })
	mad := dev[len(dev)/2] * 1.4826
	return float32(math.Max(minThresh, float64(med+8*mad)))
}

// minThresh is the smallest Lab distance (8-bit units) counted as garment.
const minThresh = 6

// forBorder calls f with the index of every pixel within band of an edge.
func forBorder(w, h, band int, f func(i int)) {
	band = min(band, w/2, h/2)
	for y := 0; y < h; y++ {
		if y < band || y >= h-band {
			for x := 0; x < w; x++ {
				f(y*w + x)
			}
			continue
		}
		for x := 0; x < band; x++ {
			f(y*w + x)
			f(y*w + w - 1 - x)
		}
	}
}

// odd returns an odd kernel size of at least 3 near n.
func odd(n int) image.Point {
	n = max(3, n|1)
	return image.Pt(n, n)
}

// largestFilled returns a mask holding only the largest 8-connected
// component of m with its holes filled, and whether there was one.
func largestFilled(m gocv.Mat) (gocv.Mat, bool) {
	out := gocv.NewMatWithSize(m.Rows(), m.Cols(), gocv.MatTypeCV8UC1)
	out.SetTo(gocv.NewScalar(0, 0, 0, 0))
	contours := gocv.FindContours(m, gocv.RetrievalExternal, gocv.ChainApproxNone)
	defer contours.Close()
	best, bestArea := -1, 0.0
	for i := 0; i < contours.Size(); i++ {
		if a := gocv.ContourArea(contours.At(i)); a > bestArea || best < 0 {
			best, bestArea = i, a
		}
	}
	if best < 0 {
		return out, false
	}
	gocv.DrawContours(&out, contours, best, color.RGBA{255, 255, 255, 255}, -1)
	return out, gocv.CountNonZero(out) > 0
}

// grabCut refines rough (0/255) on img with GrabCut: the eroded rough mask is
// sure garment, the rest of it probable garment, a ring around it probable
// background and everything further sure background. It returns an empty
// Mat when there are too few pixels of either kind to model.
func grabCut(img, rough gocv.Mat, side int) (gocv.Mat, error) {
	inK := gocv.GetStructuringElement(gocv.MorphEllipse, odd(side/16))
	defer inK.Close()
	outK := gocv.GetStructuringElement(gocv.MorphEllipse, odd(side/12))
	defer outK.Close()
	inner, outer := gocv.NewMat(), gocv.NewMat()
	defer inner.Close()
	defer outer.Close()
	gocv.Erode(rough, &inner, inK)
	gocv.Dilate(rough, &outer, outK)

	gc := gocv.NewMatWithSize(rough.Rows(), rough.Cols(), gocv.MatTypeCV8UC1)
	defer gc.Close()
	gp, err1 := gc.DataPtrUint8()
	rp, err2 := rough.DataPtrUint8()
	ip, err3 := inner.DataPtrUint8()
	op, err4 := outer.DataPtrUint8()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return gocv.Mat{}, err
	}
	nfg, nbg := 0, 0
	for i := range gp {
		switch {
		case ip[i] != 0:
			gp[i] = gcFGD
			nfg++
		case rp[i] != 0:
			gp[i] = gcPRFGD
			nfg++
		case op[i] != 0:
			gp[i] = gcPRBGD
			nbg++
		default:
			gp[i] = gcBGD
			nbg++
		}
	}
	// GrabCut fits 5-component colour models to each side: with too few
	// samples OpenCV throws, which gocv cannot recover from.
	if nfg < 500 || nbg < 500 {
		return gocv.NewMat(), nil
	}
	bgdModel, fgdModel := gocv.NewMat(), gocv.NewMat()
	defer bgdModel.Close()
	defer fgdModel.Close()
	gocv.GrabCut(img, &gc, image.Rectangle{}, &bgdModel, &fgdModel, 4, gocv.GCInitWithMask)
	fg := gocv.NewMatWithSize(rough.Rows(), rough.Cols(), gocv.MatTypeCV8UC1)
	defer fg.Close()
	fp, err := fg.DataPtrUint8()
	if err != nil {
		return gocv.Mat{}, err
	}
	for i, v := range gp {
		if v == gcFGD || v == gcPRFGD {
			fp[i] = 255
		} else {
			fp[i] = 0
		}
	}
	smooth := gocv.GetStructuringElement(gocv.MorphEllipse, odd(side/120))
	defer smooth.Close()
	gocv.MorphologyEx(fg, &fg, gocv.MorphOpen, smooth)
	out, ok := largestFilled(fg)
	if !ok {
		out.Close()
		return gocv.NewMat(), nil
	}
	return out, nil
}

// maskIoU returns the intersection over union of two 0/255 masks of the
// same size (1 when both are empty).
func maskIoU(a, b gocv.Mat) float64 {
	inter, union := gocv.NewMat(), gocv.NewMat()
	defer inter.Close()
	defer union.Close()
	gocv.BitwiseAnd(a, b, &inter)
	gocv.BitwiseOr(a, b, &union)
	u := gocv.CountNonZero(union)
	if u == 0 {
		return 1
	}
	return float64(gocv.CountNonZero(inter)) / float64(u)
}
