package person

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"mgvton/internal/matleak"
)

// reference is testdata/reference.json, written by
// scripts/person_models/reference.py: the original TFLite models' outputs
// on real photos, with the exact pre-processing it used.
type reference struct {
	Tol    map[string]float64 `json:"tolerances_suggested"`
	Images []struct {
		Image    string `json:"image"`
		Width    int    `json:"width"`
		Height   int    `json:"height"`
		Detector struct {
			TopAnchor       int          `json:"top_anchor"`
			TopAnchorCenter [2]float64   `json:"top_anchor_center"`
			TopScore        float64      `json:"top_score"`
			KeypointsPX     [][2]float64 `json:"keypoints_px"`
		} `json:"detector"`
		ROI struct {
			Center [2]float64 `json:"center_px"`
			Size   float64    `json:"size_px"`
			Rot    float64    `json:"rotation_rad"`
		} `json:"roi"`
		// Landmarks holds each landmark model's outputs on the ROI
		// ("pose_landmark_lite", "pose_landmark_full").
		Landmarks map[string]struct {
			PoseFlag         float64               `json:"pose_flag"`
			Keypoints        map[string][2]float64 `json:"keypoints_px"`
			Visibility       map[string]float64    `json:"keypoint_visibility"`
			Presence         map[string]float64    `json:"keypoint_presence"`
			SegmentationMean float64               `json:"segmentation_mean"`
		} `json:"landmarks"`
		SelfieMaskMean float64 `json:"selfie_mask_mean"`
	} `json:"images"`
}

var refNames = map[string]int{"nose": Nose, "left_shoulder": LeftShoulder, "right_shoulder": RightShoulder,
	"left_hip": LeftHip, "right_hip": RightHip}

func loadReference(t *testing.T) reference {
	t.Helper()
	data, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatalf("testdata/reference.json: %v", err)
	}
	if len(ref.Images) == 0 {
		t.Fatal("testdata/reference.json: no images")
	}
	return ref
}

// referenceImage finds a reference photo in testdata/ or assets/realset/.
func referenceImage(t *testing.T, name string) gocv.Mat {
	t.Helper()
	for _, dir := range []string{"testdata", "../assets/realset"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return readImage(t, filepath.Join(dir, name))
		}
	}
	t.Fatalf("reference image %s: not in testdata/ or ../assets/realset/", name)
	return gocv.Mat{}
}

// TestReferenceOutputs runs the detector decoding and the landmark model
// the way reference.py did and compares with the TFLite originals' outputs:
// anchors, box/keypoint decoding and the ROI rule against the top
// detection; landmark projection, pose flag, visibility and segmentation
// on the reference's region.
func TestReferenceOutputs(t *testing.T) {
	matleak.Check(t)
	ref := loadReference(t)
	tol := func(k string, def float64) float64 {
		if v, ok := ref.Tol[k]; ok {
			return v
		}
		return def
	}
	scoreTol, kpTol, flagTol, segTol := tol("score", 0.01), tol("keypoint_px", 2), tol("pose_flag", 0.01),
		tol("segmentation_mean", 0.01)
	full := newTestTracker(t, Options{NoSmoothing: true})
	lite := newTestTracker(t, Options{Lite: true, NoSmoothing: true})
	for _, tr := range []*Tracker{full, lite} {
		tr.lmBorder = gocv.BorderConstant // as reference.py
	}
	anchors := ssdAnchors(poseAnchorOptions())
	for _, im := range ref.Images {
		t.Run(im.Image, func(t *testing.T) {
			tr := full
			img := referenceImage(t, im.Image)
			if img.Cols() != im.Width || img.Rows() != im.Height {
				t.Fatalf("image %dx%d; reference says %dx%d", img.Cols(), img.Rows(), im.Width, im.Height)
			}
			a := anchors[im.Detector.TopAnchor]
			if math.Abs(a.X-im.Detector.TopAnchorCenter[0]) > 1e-9 || math.Abs(a.Y-im.Detector.TopAnchorCenter[1]) > 1e-9 {
				t.Errorf("anchor %d at (%.4f, %.4f); reference (%.4f, %.4f)", im.Detector.TopAnchor, a.X, a.Y,
					im.Detector.TopAnchorCenter[0], im.Detector.TopAnchorCenter[1])
			}
			gocv.CvtColor(img, &tr.rgb, gocv.ColorBGRToRGB)
			w, h := img.Cols(), img.Rows()
			lb := roi{CX: float64(w) / 2, CY: float64(h) / 2, Size: float64(max(w, h))}
			if err := tr.feed(tr.det, lb, -1, 2.0/255, gocv.BorderConstant); err != nil {
				t.Fatal(err)
			}
			if err := tr.det.run(); err != nil {
				t.Fatal(err)
			}
			o := poseDecodeOptions()
			o.MinScore = 0
			dets := decodeDetections(tr.det.outs[0].GetData(), tr.det.outs[1].GetData(), anchors, o)
			top := dets[0]
			for _, d := range dets {
				if d.Score > top.Score {
					top = d
				}
			}
			if math.Abs(top.Score-im.Detector.TopScore) > scoreTol {
				t.Errorf("detector top score %.4f; reference %.4f", top.Score, im.Detector.TopScore)
			}
			var kp [4][2]float64
			for k := range kp {
				kp[k][0], kp[k][1] = lb.toFrame(top.KP[k][0], top.KP[k][1])
				want := im.Detector.KeypointsPX[k]
				if d := math.Hypot(kp[k][0]-want[0], kp[k][1]-want[1]); d > kpTol {
					t.Errorf("detector keypoint %d at (%.1f, %.1f); reference (%.1f, %.1f), %.1f px off",
						k, kp[k][0], kp[k][1], want[0], want[1], d)
				}
			}
			r := roiFromPoints(kp[0][0], kp[0][1], kp[1][0], kp[1][1])
			if math.Abs(r.Size-im.ROI.Size) > 2*kpTol || math.Abs(r.Rot-im.ROI.Rot) > 0.02 {
				t.Errorf("roi size %.1f rot %.3f; reference %.1f %.3f", r.Size, r.Rot, im.ROI.Size, im.ROI.Rot)
			}
			if len(im.Landmarks) == 0 {
				t.Fatal("reference has no landmark outputs")
			}
			// Each landmark model on the reference's own region.
			rr := roi{CX: im.ROI.Center[0], CY: im.ROI.Center[1], Size: im.ROI.Size, Rot: im.ROI.Rot}
			for model, want := range im.Landmarks {
				tr := map[string]*Tracker{"pose_landmark_full": full, "pose_landmark_lite": lite}[model]
				if tr == nil {
					t.Errorf("reference for unknown landmark model %q", model)
					continue
				}
				gocv.CvtColor(img, &tr.rgb, gocv.ColorBGRToRGB)
				lm, flag, err := tr.landmarks(rr)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(flag-want.PoseFlag) > flagTol {
					t.Errorf("%s: pose flag %.4f; reference %.4f", model, flag, want.PoseFlag)
				}
				worst := 0.0
				for name, wp := range want.Keypoints {
					i, ok := refNames[name]
					if !ok {
						continue
					}
					d := math.Hypot(lm[i].X-wp[0], lm[i].Y-wp[1])
					worst = math.Max(worst, d)
					if d > kpTol {
						t.Errorf("%s: %s at (%.1f, %.1f); reference (%.1f, %.1f), %.1f px off", model, name,
							lm[i].X, lm[i].Y, wp[0], wp[1], d)
					}
					if v, ok := want.Visibility[name]; ok && math.Abs(lm[i].Visibility-v) > 0.02 {
						t.Errorf("%s: %s visibility %.3f; reference %.3f", model, name, lm[i].Visibility, v)
					}
					if v, ok := want.Presence[name]; ok && math.Abs(lm[i].Presence-v) > 0.02 {
						t.Errorf("%s: %s presence %.3f; reference %.3f", model, name, lm[i].Presence, v)
					}
				}
				var sum float64
				seg := tr.lm.outs[2].GetData()
				for _, v := range seg {
					sum += sigmoid(float64(v))
				}
				if m := sum / float64(len(seg)); math.Abs(m-want.SegmentationMean) > segTol {
					t.Errorf("%s: segmentation mean %.4f; reference %.4f", model, m, want.SegmentationMean)
				}
				t.Logf("%s: detector score %.4f (reference %.4f); pose flag %.4f (%.4f); landmarks at most %.2f px off",
					model, top.Score, im.Detector.TopScore, flag, want.PoseFlag, worst)
			}
		})
	}
}
