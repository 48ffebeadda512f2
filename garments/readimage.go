package garments

import (
	"fmt"

	"gocv.io/x/gocv"
)

// ReadImage reads any photo (a person as well as a garment) with the checks
// Import makes: byte limit, header-only format and pixel-limit check before
// decoding, EXIF orientation; transparency is flattened onto white. It
// returns BGR 8UC3; the caller closes it. Errors name the file but not its
// role ("read PATH: ..."): the caller says whether it is a person or a garment.
func ReadImage(path string) (gocv.Mat, error) {
	data, h, err := readImageFile(path)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("read %s: %w", path, err)
	}
	bgr, alpha, err := decodePhoto(data, h)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("read %s: %w", path, err)
	}
	alpha.Close()
	return bgr, nil
}
