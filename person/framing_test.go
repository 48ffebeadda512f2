package person

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// framingCase is one shared test vector (testdata/framing_cases.json, made
// by testdata/make_framing_cases.py and also read by
// training/tests/test_framing.py).
type framingCase struct {
	Name      string                `json:"name"`
	Width     int                   `json:"width"`
	Height    int                   `json:"height"`
	Keypoints map[string][4]float64 `json:"keypoints"`
	Box       *[4]float64           `json:"box"`
}

var caseNames = map[string]int{"nose": Nose, "left_ear": LeftEar, "right_ear": RightEar,
	"left_shoulder": LeftShoulder, "right_shoulder": RightShoulder, "left_elbow": LeftElbow,
	"right_elbow": RightElbow, "left_hip": LeftHip, "right_hip": RightHip}

func loadFramingCases(t testing.TB) []framingCase {
	t.Helper()
	data, err := os.ReadFile("testdata/framing_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []framingCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Cases
}

func (c framingCase) keypoints(t testing.TB) *[NumKeypoints]Keypoint {
	var kp [NumKeypoints]Keypoint
	for name, v := range c.Keypoints {
		i, ok := caseNames[name]
		if !ok {
			t.Fatalf("case %q: unknown keypoint %q", c.Name, name)
		}
		kp[i] = Keypoint{X: v[0], Y: v[1], Visibility: v[2], Presence: v[3]}
	}
	return &kp
}

func TestFrameBoxSharedVectors(t *testing.T) {
	cases := loadFramingCases(t)
	if len(cases) < 5 {
		t.Fatalf("got %d framing cases; want at least 5", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			box, ok := FrameBox(c.keypoints(t), c.Width, c.Height)
			if c.Box == nil {
				if ok {
					t.Errorf("got box %+v; want none", box)
				}
				return
			}
			if !ok {
				t.Fatalf("got no box; want %v", *c.Box)
			}
			got := [4]float64{box.X, box.Y, box.W, box.H}
			for i := range got {
				if math.Abs(got[i]-c.Box[i]) > 1e-3 {
					t.Errorf("box: got %v; want %v (Python's training/framing.py)", got, *c.Box)
					break
				}
			}
			if r := box.Rect(); math.Abs(float64(r.Dx())/float64(r.Dy())-0.75) > 0.01 {
				t.Errorf("rounded box %v is not 3:4", r)
			}
		})
	}
}

func TestFrameBoxGeometry(t *testing.T) {
	byName := map[string]framingCase{}
	for _, c := range loadFramingCases(t) {
		byName[c.Name] = c
	}
	// Webcam close-up: the box leaves the frame at the bottom, shoulders at
	// the trained height.
	c := byName["webcam close-up, hips below the frame"]
	kp := c.keypoints(t)
	box, ok := FrameBox(kp, c.Width, c.Height)
	if !ok || box.Y+box.H <= float64(c.Height) {
		t.Errorf("close-up: got %+v %v; want a box that extends below the %d-pixel frame", box, ok, c.Height)
	}
	if got := (kp[LeftShoulder].Y - box.Y) / box.H; math.Abs(got-FrameShoulderY) > 1e-9 {
		t.Errorf("close-up shoulders at %.3f of the box; want %.3f", got, FrameShoulderY)
	}
	// Full body: the hips land at FrameHipY.
	c = byName["full body, small in a 1280x720 frame"]
	kp = c.keypoints(t)
	box, _ = FrameBox(kp, c.Width, c.Height)
	if got := (kp[LeftHip].Y - box.Y) / box.H; math.Abs(got-FrameHipY) > 1e-9 {
		t.Errorf("full body hips at %.3f of the box; want %.3f", got, FrameHipY)
	}
	// Turned body: a narrower shoulder line must not shrink the box below
	// what the head says.
	c = byName["webcam close-up, body turned"]
	box, _ = FrameBox(c.keypoints(t), c.Width, c.Height)
	kp = c.keypoints(t)
	sw := math.Abs(kp[LeftShoulder].X-kp[RightShoulder].X) / FrameShoulderWidth
	if box.H <= sw*1.2 {
		t.Errorf("turned body: box height %.0f; want well above the shoulder-width estimate %.0f", box.H, sw)
	}
}
