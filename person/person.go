// Package person finds and follows one person in camera frames with
// MediaPipe's pretrained BlazePose models (models/person/): the pose
// detector finds a person, the landmark model tracks the 33 body keypoints
// from one frame to the next (the detector runs again only when the person
// is lost, and every 30 frames to check), a person-segmentation mask is
// brought back to the frame's resolution, and a One-Euro filter steadies
// the keypoints.
//
// It also owns the framing rule: where the 3:4 crop given to the try-on
// model goes, placed from shoulders, hips and head (see FrameBox).
//
// The package is beside inference and never imports ui. It shares the ONNX
// Runtime library and session conventions of inference (internal/ortenv).
//
// Ownership: a Mat handed to Tracker.Track stays the caller's; the Mask of a
// Person returned by Track is owned by the receiver, who must Close the
// Person once.
package person

import (
	"image"

	"gocv.io/x/gocv"
)

// NumKeypoints is the number of BlazePose body keypoints.
const NumKeypoints = 33

// BlazePose keypoint indices ("left" is the person's left, which appears on
// the image's right in a frontal view).
const (
	Nose = iota
	LeftEyeInner
	LeftEye
	LeftEyeOuter
	RightEyeInner
	RightEye
	RightEyeOuter
	LeftEar
	RightEar
	MouthLeft
	MouthRight
	LeftShoulder
	RightShoulder
	LeftElbow
	RightElbow
	LeftWrist
	RightWrist
	LeftPinky
	RightPinky
	LeftIndex
	RightIndex
	LeftThumb
	RightThumb
	LeftHip
	RightHip
	LeftKnee
	RightKnee
	LeftAnkle
	RightAnkle
	LeftHeel
	RightHeel
	LeftFootIndex
	RightFootIndex
)

// Keypoint is one body keypoint in frame pixel coordinates. X and Y may lie
// outside the frame (a webcam close-up puts the hips below it).
type Keypoint struct {
	X, Y float64
	// Z is depth relative to the hips, in the same scale as X (smaller is
	// nearer the camera).
	Z float64
	// Visibility is the probability (0..1) that the point is visible, not
	// hidden by the body or something else.
	Visibility float64
	// Presence is the probability (0..1) that the point is inside the frame.
	Presence float64
}

// Pt returns the keypoint's position.
func (k Keypoint) Pt() (x, y float64) { return k.X, k.Y }

// Person is one tracked person in one frame.
type Person struct {
	// Keypoints are the 33 BlazePose keypoints, One-Euro filtered, in frame
	// pixels.
	Keypoints [NumKeypoints]Keypoint
	// Mask is the person segmentation at the frame's resolution: CV8UC1,
	// 0 (background) .. 255 (person). It may be empty (no Mat data) when the
	// tracker was made without segmentation.
	Mask gocv.Mat
	// Score is the landmark model's person-presence probability (0..1).
	Score float64
	// ROI is the square, possibly rotated, region the landmark model looked
	// at, in frame pixels (its bounding box; it may leave the frame).
	ROI image.Rectangle
	// Detected reports whether the detector ran for this frame (the person
	// was found afresh rather than tracked from the previous frame).
	Detected bool
}

// Close releases the mask. It is safe to call more than once.
func (p *Person) Close() {
	if p.Mask.Ptr() != nil {
		p.Mask.Close()
		p.Mask = gocv.Mat{}
	}
}
