package garments

import (
	"fmt"

	"gocv.io/x/gocv"
)

// Load reads a catalog garment for the pipeline: img is 8-bit BGR, mask
// 8-bit 0/255 of the same size (thresholded at half). Both go through the
// same size and header checks as imports. The caller closes both.
func Load(g Garment) (img, mask gocv.Mat, err error) {
	img, err = loadImage(g.ImagePath, gocv.IMReadColor|gocv.IMReadIgnoreOrientation)
	if err != nil {
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("garments: load %s: %w", g.ID, err)
	}
	mask, err = loadImage(g.MaskPath, gocv.IMReadGrayScale|gocv.IMReadIgnoreOrientation)
	if err != nil {
		img.Close()
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("garments: load %s: %w", g.ID, err)
	}
	if mask.Cols() != img.Cols() || mask.Rows() != img.Rows() {
		err = fmt.Errorf("garments: load %s: mask is %dx%d, image is %dx%d", g.ID, mask.Cols(), mask.Rows(), img.Cols(), img.Rows())
		img.Close()
		mask.Close()
		return gocv.Mat{}, gocv.Mat{}, err
	}
	gocv.Threshold(mask, &mask, 127, 255, gocv.ThresholdBinary)
	return img, mask, nil
}

func loadImage(path string, flags gocv.IMReadFlag) (gocv.Mat, error) {
	data, _, err := readImageFile(path)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("read %s: %w", path, err)
	}
	m, err := gocv.IMDecode(data, flags)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("decode %s: %w", path, err)
	}
	if m.Empty() {
		m.Close()
		return gocv.Mat{}, fmt.Errorf("decode %s: %w", path, ErrCorrupt)
	}
	return m, nil
}
