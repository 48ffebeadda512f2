package garments

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"io"
	"io/fs"
	"os"

	"gocv.io/x/gocv"
)

// readImageFile reads a whole image file after checking, from its size and
// its header alone, that it is a JPEG, PNG or WebP within the limits.
func readImageFile(path string) ([]byte, Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Header{}, unpath(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, Header{}, unpath(err)
	}
	if !st.Mode().IsRegular() {
		return nil, Header{}, errors.New("not a regular file")
	}
	if st.Size() > MaxFileBytes {
		return nil, Header{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, st.Size(), MaxFileBytes)
	}
	// Read the start first so that a non-image is refused without reading
	// the rest; then the rest, still bounded in case the file grew.
	head := make([]byte, 16)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, Header{}, err
	}
	if _, ok := sniff(head[:n]); !ok {
		return nil, Header{}, ErrNotImage
	}
	rest, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1-int64(n)))
	if err != nil {
		return nil, Header{}, err
	}
	data := append(head[:n], rest...)
	if int64(len(data)) > MaxFileBytes {
		return nil, Header{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxFileBytes)
	}
	h, err := ReadHeader(data)
	if err != nil {
		return nil, Header{}, err
	}
	if h.Pixels() > MaxPixels {
		return nil, Header{}, fmt.Errorf("%w: %dx%d is %d pixels, the limit is %d", ErrTooManyPixels, h.Width, h.Height, h.Pixels(), MaxPixels)
	}
	if h.Width < MinSide || h.Height < MinSide {
		return nil, Header{}, fmt.Errorf("%w: %dx%d, the minimum is %dx%d", ErrTooSmall, h.Width, h.Height, MinSide, MinSide)
	}
	return data, h, nil
}

// unpath drops the path from an *fs.PathError, since the callers' messages
// name the file already: "open: no such file or directory".
func unpath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// decodePhoto decodes a checked image file into 8-bit BGR with its EXIF
// orientation applied. When the image has an alpha channel that actually
// cuts the garment out, alpha is its 0/255 mask (thresholded at half) and
// the colour is composited onto white; otherwise alpha is an empty Mat.
// The caller closes both.
func decodePhoto(data []byte, h Header) (bgr, alpha gocv.Mat, err error) {
	// IMReadUnchanged keeps alpha and 16-bit depth and, unlike the other
	// flags, does not apply EXIF orientation: that is done below, by us.
	if h.Format == PNG {
		// libpng reports damaged pixel data on stderr itself ("libpng error:
		// bad adaptive filter value") before OpenCV returns an empty Mat, so
		// a broken PNG printed two messages. Go's decoder checks the same
		// data quietly; OpenCV still does the real decode (16-bit, alpha).
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("%w: the decoder rejected it (%v)", ErrCorrupt, err)
		}
	}
	raw, err := gocv.IMDecode(data, gocv.IMReadUnchanged)
	if err != nil {
		return gocv.Mat{}, gocv.Mat{}, err
	}
	defer raw.Close()
	if raw.Empty() {
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("%w: the decoder rejected it", ErrCorrupt)
	}
	if raw.Cols() != h.Width || raw.Rows() != h.Height {
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("%w: header says %dx%d, pixels are %dx%d", ErrCorrupt, h.Width, h.Height, raw.Cols(), raw.Rows())
	}
	if raw.Type()&7 == gocv.MatTypeCV16U { // 16-bit PNG
		raw.ConvertToWithParams(&raw, gocv.MatTypeCV8U, 1.0/257, 0) // keeps the channels
	} else if raw.Type()&7 != gocv.MatTypeCV8U {
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("%w: unsupported pixel type %v", ErrCorrupt, raw.Type())
	}
	switch raw.Channels() {
	case 1:
		bgr = gocv.NewMat()
		gocv.CvtColor(raw, &bgr, gocv.ColorGrayToBGR)
		alpha = gocv.NewMat()
	case 3:
		bgr = raw.Clone()
		alpha = gocv.NewMat()
	case 4:
		bgr, alpha, err = flattenAlpha(raw)
		if err != nil {
			return gocv.Mat{}, gocv.Mat{}, err
		}
	default:
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("%w: %d channels", ErrCorrupt, raw.Channels())
	}
	if err := orient(&bgr, h.Orientation); err != nil {
		bgr.Close()
		alpha.Close()
		return gocv.Mat{}, gocv.Mat{}, err
	}
	if !alpha.Empty() {
		if err := orient(&alpha, h.Orientation); err != nil {
			bgr.Close()
			alpha.Close()
			return gocv.Mat{}, gocv.Mat{}, err
		}
	}
	return bgr, alpha, nil
}

// flattenAlpha composites 8-bit BGRA onto white and returns the colour and,
// if at least 1% of the pixels are transparent and 1% opaque (a cut-out
// rather than a fully opaque image with an alpha channel), the alpha
// thresholded at half as a 0/255 mask; otherwise an empty mask.
func flattenAlpha(bgra gocv.Mat) (bgr, mask gocv.Mat, err error) {
	if !bgra.IsContinuous() {
		return gocv.Mat{}, gocv.Mat{}, errors.New("flatten alpha: image not continuous")
	}
	src, err := bgra.DataPtrUint8()
	if err != nil {
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("flatten alpha: %w", err)
	}
	rows, cols := bgra.Rows(), bgra.Cols()
	bgr = gocv.NewMatWithSize(rows, cols, gocv.MatTypeCV8UC3)
	mask = gocv.NewMatWithSize(rows, cols, gocv.MatTypeCV8UC1)
	dst, err1 := bgr.DataPtrUint8()
	m, err2 := mask.DataPtrUint8()
	if err := errors.Join(err1, err2); err != nil {
		bgr.Close()
		mask.Close()
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("flatten alpha: %w", err)
	}
	transparent, opaque := 0, 0
	for i, j := 0, 0; i < len(m); i, j = i+1, j+4 {
		a := int(src[j+3])
		for c := 0; c < 3; c++ {
			dst[i*3+c] = uint8((int(src[j+c])*a + 255*(255-a) + 127) / 255)
		}
		if a >= 128 {
			m[i] = 255
			opaque++
		} else {
			m[i] = 0
			transparent++
		}
	}
	if n := len(m) / 100; transparent < n || opaque < n {
		mask.Close()
		mask = gocv.NewMat()
	}
	return bgr, mask, nil
}

// orient applies an EXIF orientation (1..8) to m in place, so that the
// result is the image as it is meant to be displayed.
func orient(m *gocv.Mat, o int) error {
	if o <= 1 || o > 8 {
		return nil
	}
	out := gocv.NewMat()
	switch o {
	case 2: // mirrored left-right
		gocv.Flip(*m, &out, 1)
	case 3: // rotated 180
		gocv.Rotate(*m, &out, gocv.Rotate180Clockwise)
	case 4: // mirrored top-bottom
		gocv.Flip(*m, &out, 0)
	case 5: // stored row 0 is the left column: transpose
		gocv.Transpose(*m, &out)
	case 6: // stored row 0 is the right column: rotate 90 clockwise
		gocv.Rotate(*m, &out, gocv.Rotate90Clockwise)
	case 7: // stored row 0 is the right column, mirrored: transverse
		gocv.Transpose(*m, &out)
		gocv.Flip(out, &out, -1)
	case 8: // stored row 0 is the left column, mirrored: rotate 90 anticlockwise
		gocv.Rotate(*m, &out, gocv.Rotate90CounterClockwise)
	}
	if out.Empty() {
		out.Close()
		return fmt.Errorf("apply exif orientation %d: empty result", o)
	}
	m.Close()
	*m = out
	return nil
}
