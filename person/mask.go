package person

import (
	"math"

	"gocv.io/x/gocv"
)

// maskMix is how much of the previous frame's mask an uncertain pixel keeps
// (MediaPipe's SegmentationSmoothingCalculator, combine_with_previous_ratio).
const maskMix = 0.7

// uncertaintyLUT[v] is the weight of the previous mask for a new mask value
// v (0..255): maskMix * (1 - c^2), where c = 1 - binary entropy of p = v/255
// is the model's certainty. Confident pixels (p near 0 or 1) take the new
// value; pixels near 0.5 lean on the previous frame, which steadies the
// person's outline without lagging behind a moving body.
var uncertaintyLUT = func() (lut [256]int32) {
	for v := range lut {
		p := min(max(float64(v)/255, 1e-6), 1-1e-6)
		c := 1 + (p*math.Log(p)+(1-p)*math.Log(1-p))/math.Ln2
		lut[v] = int32(math.Round(maskMix * min(max(1-c*c, 0), 1) * 256))
	}
	return lut
}()

// smoothMask blends cur (CV8UC1) with prev in place where cur is uncertain.
// prev must have cur's size and type; otherwise nothing happens.
func smoothMask(cur, prev gocv.Mat) {
	if prev.Empty() || prev.Rows() != cur.Rows() || prev.Cols() != cur.Cols() || prev.Type() != cur.Type() {
		return
	}
	c, err1 := cur.DataPtrUint8()
	p, err2 := prev.DataPtrUint8()
	if err1 != nil || err2 != nil || len(c) != len(p) {
		return
	}
	for i, v := range c {
		u := uncertaintyLUT[v]
		if u == 0 {
			continue
		}
		n := int32(v)
		c[i] = uint8(n + ((int32(p[i])-n)*u+128)>>8)
	}
}
