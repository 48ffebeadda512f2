package realeval

import (
	"context"
	"encoding/json"
	"image"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"mgvton/inference"
	"mgvton/internal/matleak"
	"mgvton/internal/repotest"
	"mgvton/person"
)

func noise(tb testing.TB, w, h int) gocv.Mat {
	data := make([]byte, w*h)
	rand.New(rand.NewSource(1)).Read(data)
	m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC1, data)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestFaceMeasures(t *testing.T) {
	matleak.Check(t)
	a := noise(t, 64, 64)
	defer a.Close()
	blurred := gocv.NewMat()
	defer blurred.Close()
	gocv.GaussianBlur(a, &blurred, image.Pt(7, 7), 2, 2, gocv.BorderReplicate)
	r := image.Rect(8, 8, 56, 56)
	if s := ssim(a, a, r); s < 0.9999 || s > 1.0001 {
		t.Errorf("SSIM of a picture with itself: got %.4f; want 1", s)
	}
	if s := ssim(a, blurred, r); s > 0.5 {
		t.Errorf("SSIM of noise against its blur: got %.3f; want well below 1", s)
	}
	if ratio := laplacianVar(blurred, r) / laplacianVar(a, r); ratio > 0.2 {
		t.Errorf("sharpness ratio of a blurred picture: got %.3f; want well below 1", ratio)
	}
}

func TestIoU(t *testing.T) {
	matleak.Check(t)
	a := gocv.NewMatWithSize(10, 10, gocv.MatTypeCV8UC1)
	b := gocv.NewMatWithSize(10, 10, gocv.MatTypeCV8UC1)
	defer a.Close()
	defer b.Close()
	a.SetTo(gocv.Scalar{})
	b.SetTo(gocv.Scalar{})
	ra, rb := a.Region(image.Rect(0, 0, 6, 10)), b.Region(image.Rect(3, 0, 9, 10))
	ra.SetTo(gocv.NewScalar(255, 0, 0, 0))
	rb.SetTo(gocv.NewScalar(255, 0, 0, 0))
	ra.Close()
	rb.Close()
	got := iou(a, b) // 3 shared columns of 9
	if got == nil || *got < 0.333 || *got > 0.334 {
		t.Errorf("IoU: got %v; want 1/3", got)
	}
	if iou(a, gocv.Mat{}) != nil {
		t.Error("IoU with no previous mask: want nil")
	}
}

// TestRunOnTheDemoClip runs the evaluation with the inference fixture model
// on three frames of the demo clip and reads the report back.
func TestRunOnTheDemoClip(t *testing.T) {
	m, err := inference.LoadModel("../../inference/testdata/tiny", inference.Options{LibraryPath: repotest.LibraryPath(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	t.Setenv(person.ModelDirEnv, repotest.PersonModels(t))
	gimg := gocv.IMRead("../../inference/testdata/garment.png", gocv.IMReadColor)
	gmask := gocv.IMRead("../../inference/testdata/garment_mask.png", gocv.IMReadGrayScale)
	defer gimg.Close()
	defer gmask.Close()
	g, err := m.PrepareGarment(context.Background(), "fixture", gimg, gmask)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	rep, err := Run(context.Background(), m, g, Options{In: "../../assets/demo.mp4", Out: out, MaxFrames: 3, Every: 10,
		SheetRows: 2, Framing: inference.FramingOn})
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Summary.Frames != 3 || len(back.Frames) != 3 || !back.Video {
		t.Fatalf("report: got %d frames (summary %d, video %v); want 3 of a video", len(back.Frames), back.Summary.Frames, back.Video)
	}
	if back.PoseModel != "full" {
		t.Errorf("report: pose_model %q; want full (Options.PoseLite unset)", back.PoseModel)
	}
	if rep.Summary.PersonFoundRate != 1 || rep.Summary.SegmentedRate != 1 {
		t.Errorf("person found %.2f, segmented %.2f; want 1 and 1 on the demo clip", rep.Summary.PersonFoundRate, rep.Summary.SegmentedRate)
	}
	for _, f := range rep.Frames {
		if f.BackgroundChange == nil || *f.BackgroundChange != 0 {
			t.Errorf("%s: background change %v; want exactly 0", f.Name, fmtP(f.BackgroundChange, 3))
		}
		if f.TorsoCoverage == nil || f.FaceSharpness == nil {
			t.Errorf("%s: torso coverage or face sharpness missing", f.Name)
		}
	}
	if rep.Frames[1].GarmentIoUPrev == nil {
		t.Error("second frame: no IoU with the first")
	}
	for _, name := range []string{"report.md", "sheet.jpg"} {
		if st, err := os.Stat(filepath.Join(out, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: missing or empty (%v)", name, err)
		}
	}
}
