package person

import (
	"image"
	"math"
)

// The framing rule: where the 3:4 try-on crop goes, from body keypoints.
// It is written twice, here and in training/framing.py (whose doc comment
// gives the measurements behind the numbers), and both test suites check
// person/testdata/framing_cases.json.
//
// Targets are where the body sits in the synthetic training crops, measured
// from the generator's exact pose over 3,000 people (python -m
// training.framing measure), as fractions of the crop height (x: of the
// width).
const (
	FrameShoulderX     = 0.5   // shoulder midpoint x (measured 0.501 +- 0.026)
	FrameShoulderY     = 0.329 // shoulder midpoint y (0.329 +- 0.017)
	FrameHipY          = 0.810 // hip midpoint y (0.810 +- 0.018)
	FrameShoulderWidth = 0.377 // shoulder to shoulder (0.377 +- 0.023)
	FrameEarDrop       = 0.176 // ear midpoint to shoulder midpoint (0.177 +- 0.008)
	FrameAspect        = 0.75  // width / height
	// FrameHipVisibility is how visible both hips must be (and their
	// midpoint inside the frame) for the torso to set the scale.
	FrameHipVisibility = 0.5
)

// Box is a crop box in frame pixels; it may extend past the frame.
type Box struct{ X, Y, W, H float64 }

// Rect rounds the box to integer pixels, keeping 3:4.
func (b Box) Rect() image.Rectangle {
	h := int(math.Round(b.H))
	w := int(math.Round(float64(h) * FrameAspect))
	x, y := int(math.Round(b.X)), int(math.Round(b.Y))
	return image.Rect(x, y, x+w, y+h)
}

// FrameBox returns the 3:4 crop for a person's keypoints on a width x
// height frame, placed so that the body lands where it lands in the
// training data, or ok=false when the keypoints give no usable scale.
//
// The crop height comes from the torso (shoulder midpoint to hip midpoint)
// when both hips are visible and their midpoint is inside the frame;
// otherwise (webcam close-ups: hips, even elbows out of frame) from the
// larger of the shoulder-width and ear-to-shoulder estimates: turning the
// body narrows the shoulders and bowing the head shortens the neck, so each
// alone only underestimates the scale. The landmark model predicts ears and
// shoulders for a turned head or a back view too. The crop is centred on the
// shoulder midpoint (on the torso's middle when the hips are seen), with the
// shoulders at FrameShoulderY from its top.
func FrameBox(kp *[NumKeypoints]Keypoint, width, height int) (Box, bool) {
	mid := func(a, b int) (float64, float64) {
		return (kp[a].X + kp[b].X) / 2, (kp[a].Y + kp[b].Y) / 2
	}
	shX, shY := mid(LeftShoulder, RightShoulder)
	earX, earY := mid(LeftEar, RightEar)
	hipX, hipY := mid(LeftHip, RightHip)
	hipsSeen := min(kp[LeftHip].Visibility, kp[RightHip].Visibility) >= FrameHipVisibility &&
		hipX >= 0 && hipX <= float64(width) && hipY >= 0 && hipY <= float64(height)
	var h, cx float64
	if hipsSeen {
		h = math.Hypot(hipX-shX, hipY-shY) / (FrameHipY - FrameShoulderY)
		cx = (shX + hipX) / 2
	} else {
		sw := math.Hypot(kp[LeftShoulder].X-kp[RightShoulder].X, kp[LeftShoulder].Y-kp[RightShoulder].Y)
		h = max(sw/FrameShoulderWidth, math.Hypot(shX-earX, shY-earY)/FrameEarDrop)
		cx = shX
	}
	if math.IsNaN(h) || math.IsInf(h, 0) || h < 8 {
		return Box{}, false
	}
	w := h * FrameAspect
	return Box{X: cx - FrameShoulderX*w, Y: shY - FrameShoulderY*h, W: w, H: h}, true
}
