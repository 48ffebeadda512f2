package garments

import (
	"errors"
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Share of the canvas the garment's bounding box may fill, like VITON-HD
// cloth images: about 80% of the height, never more than 90% of the width.
const (
	fillHeight = 0.80
	fillWidth  = 0.90
)

// PrepareFile turns a shop photo into a catalog image and mask, as Import
// stores them: it checks the file's size and header, decodes it (JPEG, PNG
// or WebP), applies its EXIF orientation, takes the garment mask from
// maskPath when it is not empty, else from the image's alpha channel when
// that cuts the garment out, else from AutoMask, and centres the garment on
// the canvas with Prepare. The caller closes img and mask.
func PrepareFile(path, maskPath string) (img, mask gocv.Mat, err error) {
	img, mask, err = prepareFile(path, maskPath)
	if err != nil {
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("garments: prepare %s: %w", path, err)
	}
	return img, mask, nil
}

// prepareFile is PrepareFile with errors that do not name path.
func prepareFile(path, maskPath string) (img, mask gocv.Mat, err error) {
	data, h, err := readImageFile(path)
	if err != nil {
		return gocv.Mat{}, gocv.Mat{}, err
	}
	photo, alpha, err := decodePhoto(data, h)
	if err != nil {
		return gocv.Mat{}, gocv.Mat{}, err
	}
	defer photo.Close()
	defer alpha.Close()

	var m gocv.Mat
	switch {
	case maskPath != "":
		m, err = readMaskFile(maskPath, photo.Cols(), photo.Rows())
		if err != nil {
			return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("mask %s: %w", maskPath, err)
		}
	case !alpha.Empty():
		m = alpha.Clone()
	default:
		m, err = AutoMask(photo)
		if err != nil {
			return gocv.Mat{}, gocv.Mat{}, err
		}
	}
	defer m.Close()
	return Prepare(photo, m)
}

// readMaskFile reads a mask image (any accepted format; alpha if it has a
// cut-out alpha channel, else the grey level) as 0/255, thresholded at half,
// and checks that it is w x h.
func readMaskFile(path string, w, h int) (gocv.Mat, error) {
	data, hd, err := readImageFile(path)
	if err != nil {
		return gocv.Mat{}, err
	}
	bgr, alpha, err := decodePhoto(data, hd)
	if err != nil {
		return gocv.Mat{}, err
	}
	defer bgr.Close()
	if bgr.Cols() != w || bgr.Rows() != h {
		alpha.Close()
		return gocv.Mat{}, fmt.Errorf("mask is %dx%d, image is %dx%d", bgr.Cols(), bgr.Rows(), w, h)
	}
	if !alpha.Empty() {
		return alpha, nil
	}
	alpha.Close()
	m := gocv.NewMat()
	gocv.CvtColor(bgr, &m, gocv.ColorBGRToGray)
	gocv.Threshold(m, &m, 127, 255, gocv.ThresholdBinary)
	if gocv.CountNonZero(m) == 0 {
		m.Close()
		return gocv.Mat{}, errors.New("mask is empty")
	}
	return m, nil
}

// Prepare crops img (8-bit BGR) to the bounding box of mask (8-bit, garment
// where >= 128, same size), scales the garment so that it fills about 80%
// of the canvas height (less if it would fill more than 90% of the width)
// and centres it on a white ImageWidth x ImageHeight canvas, outside the
// mask too. The new mask is 0/255. The caller closes both results.
func Prepare(img, mask gocv.Mat) (outImg, outMask gocv.Mat, err error) {
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("garments: prepare: want a non-empty 8-bit BGR image, got type %v", img.Type())
	}
	if mask.Type() != gocv.MatTypeCV8UC1 || mask.Cols() != img.Cols() || mask.Rows() != img.Rows() {
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("garments: prepare: mask of type %v and size %dx%d does not match the %dx%d image",
			mask.Type(), mask.Cols(), mask.Rows(), img.Cols(), img.Rows())
	}
	box, err := maskBounds(mask)
	if err != nil {
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("garments: prepare: %w", err)
	}
	if box.Empty() {
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("garments: prepare: %w", ErrNoGarment)
	}
	bw, bh := float64(box.Dx()), float64(box.Dy())
	s := math.Min(fillHeight*ImageHeight/bh, fillWidth*ImageWidth/bw)
	nw := min(ImageWidth, max(1, int(math.Round(bw*s))))
	nh := min(ImageHeight, max(1, int(math.Round(bh*s))))

	cropImg := img.Region(box)
	defer cropImg.Close()
	cropMask := mask.Region(box)
	defer cropMask.Close()
	interp, maskInterp := gocv.InterpolationArea, gocv.InterpolationArea
	if s > 1 {
		interp, maskInterp = gocv.InterpolationCubic, gocv.InterpolationLinear
	}
	gi, alpha := gocv.NewMat(), gocv.NewMat()
	defer gi.Close()
	defer alpha.Close()
	gocv.Resize(cropImg, &gi, image.Pt(nw, nh), 0, 0, interp)
	// The scaled mask is a soft alpha: it antialiases the garment's edge on
	// the white canvas.
	gocv.Resize(cropMask, &alpha, image.Pt(nw, nh), 0, 0, maskInterp)
	if !gi.IsContinuous() || !alpha.IsContinuous() {
		return gocv.Mat{}, gocv.Mat{}, errors.New("garments: prepare: resized image not continuous")
	}

	outImg = gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 255, 255, 0), ImageHeight, ImageWidth, gocv.MatTypeCV8UC3)
	outMask = gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), ImageHeight, ImageWidth, gocv.MatTypeCV8UC1)
	src, err1 := gi.DataPtrUint8()
	ap, err2 := alpha.DataPtrUint8()
	dst, err3 := outImg.DataPtrUint8()
	mp, err4 := outMask.DataPtrUint8()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		outImg.Close()
		outMask.Close()
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("garments: prepare: %w", err)
	}
	x0, y0 := (ImageWidth-nw)/2, (ImageHeight-nh)/2
	for y := 0; y < nh; y++ {
		for x := 0; x < nw; x++ {
			a := int(ap[y*nw+x])
			si, di := 3*(y*nw+x), 3*((y0+y)*ImageWidth+x0+x)
			for c := 0; c < 3; c++ {
				dst[di+c] = uint8((int(src[si+c])*a + 255*(255-a) + 127) / 255)
			}
			if a >= 128 {
				mp[(y0+y)*ImageWidth+x0+x] = 255
			}
		}
	}
	return outImg, outMask, nil
}

// maskBounds returns the bounding box of the pixels >= 128 of an 8-bit mask.
func maskBounds(mask gocv.Mat) (image.Rectangle, error) {
	m := mask
	if !mask.IsContinuous() {
		m = mask.Clone()
		defer m.Close()
	}
	p, err := m.DataPtrUint8()
	if err != nil {
		return image.Rectangle{}, err
	}
	w, h := m.Cols(), m.Rows()
	x0, y0, x1, y1 := w, h, -1, -1
	for y := 0; y < h; y++ {
		row := p[y*w : (y+1)*w]
		first := -1
		for x, v := range row {
			if v >= 128 {
				first = x
				break
			}
		}
		if first < 0 {
			continue
		}
		last := first
		for x := w - 1; x > first; x-- {
			if row[x] >= 128 {
				last = x
				break
			}
		}
		x0, x1 = min(x0, first), max(x1, last)
		y0, y1 = min(y0, y), y
	}
	if x1 < 0 {
		return image.Rectangle{}, nil
	}
	return image.Rect(x0, y0, x1+1, y1+1), nil
}

// thumbnail returns img scaled to ThumbWidth x ThumbHeight.
func thumbnail(img gocv.Mat) gocv.Mat {
	t := gocv.NewMat()
	gocv.Resize(img, &t, image.Pt(ThumbWidth, ThumbHeight), 0, 0, gocv.InterpolationArea)
	return t
}

// encodePNG returns img encoded as PNG.
func encodePNG(img gocv.Mat) ([]byte, error) {
	buf, err := gocv.IMEncode(gocv.PNGFileExt, img)
	if err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	defer buf.Close()
	b := buf.GetBytes()
	if len(b) == 0 {
		return nil, errors.New("encode png: empty result")
	}
	return append([]byte(nil), b...), nil
}
