package inference

import (
	"fmt"
	"image"

	"gocv.io/x/gocv"
)

// resizeTo resizes src into dst at w x h (area filter when shrinking,
// linear when growing). dst is reused when it already has that size.
func resizeTo(dst *gocv.Mat, src gocv.Mat, w, h int) {
	if src.Cols() == w && src.Rows() == h {
		src.CopyTo(dst)
		return
	}
	interp := gocv.InterpolationLinear
	if src.Cols() > w || src.Rows() > h {
		interp = gocv.InterpolationArea
	}
	gocv.Resize(src, dst, image.Pt(w, h), 0, 0, interp)
}

// imageToTensor writes a BGR 8UC3 image of the tensor's size into dst as
// planar RGB in [-1, 1] (NCHW, batch 1).
func imageToTensor(dst []float32, src gocv.Mat) error {
	w, h := src.Cols(), src.Rows()
	if src.Type() != gocv.MatTypeCV8UC3 || len(dst) != 3*w*h {
		return fmt.Errorf("inference: image %dx%d type %v does not fit a tensor of %d values", w, h, src.Type(), len(dst))
	}
	pix, err := src.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("inference: image data: %w", err)
	}
	n := w * h
	r, g, b := dst[:n], dst[n:2*n], dst[2*n:3*n]
	for i := 0; i < n; i++ {
		p := pix[3*i : 3*i+3 : 3*i+3]
		b[i] = float32(p[0])/127.5 - 1
		g[i] = float32(p[1])/127.5 - 1
		r[i] = float32(p[2])/127.5 - 1
	}
	return nil
}

// maskToTensor writes an 8UC1 mask of the tensor's size into dst in [0, 1].
func maskToTensor(dst []float32, src gocv.Mat) error {
	w, h := src.Cols(), src.Rows()
	if src.Type() != gocv.MatTypeCV8UC1 || len(dst) != w*h {
		return fmt.Errorf("inference: mask %dx%d type %v does not fit a tensor of %d values", w, h, src.Type(), len(dst))
	}
	pix, err := src.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("inference: mask data: %w", err)
	}
	for i, v := range pix {
		dst[i] = float32(v) / 255
	}
	return nil
}

// tensorToImage writes planar RGB in [-1, 1] into dst as a BGR 8UC3 image
// of w x h, (re)allocating dst if it has another size or type.
func tensorToImage(dst *gocv.Mat, src []float32, w, h int) error {
	n := w * h
	if len(src) != 3*n {
		return fmt.Errorf("inference: tensor of %d values is not a %dx%d RGB image", len(src), w, h)
	}
	ensureMat(dst, w, h, gocv.MatTypeCV8UC3)
	pix, err := dst.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("inference: image data: %w", err)
	}
	r, g, b := src[:n], src[n:2*n], src[2*n:3*n]
	for i := 0; i < n; i++ {
		p := pix[3*i : 3*i+3 : 3*i+3]
		p[0], p[1], p[2] = toByte(b[i]), toByte(g[i]), toByte(r[i])
	}
	return nil
}

// tensorToMask writes values in [0, 1] into dst as an 8UC1 mask of w x h.
func tensorToMask(dst *gocv.Mat, src []float32, w, h int) error {
	if len(src) != w*h {
		return fmt.Errorf("inference: tensor of %d values is not a %dx%d mask", len(src), w, h)
	}
	ensureMat(dst, w, h, gocv.MatTypeCV8UC1)
	pix, err := dst.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("inference: mask data: %w", err)
	}
	for i, v := range src {
		pix[i] = toByte(v*2 - 1)
	}
	return nil
}

// toByte maps [-1, 1] to 0..255 with rounding and saturation.
func toByte(v float32) uint8 {
	x := (v+1)*127.5 + 0.5
	switch {
	case x <= 0:
		return 0
	case x >= 255:
		return 255
	}
	return uint8(x)
}

// ensureMat makes m a Mat of the given size and type, reusing it when it
// already is one. A zero Mat{} is allowed (gocv's Empty would crash on it).
func ensureMat(m *gocv.Mat, w, h int, t gocv.MatType) {
	if m.Ptr() != nil && m.Cols() == w && m.Rows() == h && m.Type() == t {
		return
	}
	m.Close()
	*m = gocv.NewMatWithSize(h, w, t)
}
