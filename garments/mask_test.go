package garments

import (
	"image"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"
)

// TestAutoMaskIoU measures the automatic mask against the known mask of
// synthetic shop photos. Set MGVTON_MASK_DEBUG to a folder to get each
// photo, true mask and automatic mask there as PNG.
func TestAutoMaskIoU(t *testing.T) {
	const want = 0.95
	debug := os.Getenv("MGVTON_MASK_DEBUG")
	for _, c := range synthCases {
		t.Run(c.name, func(t *testing.T) {
			img, truth := synthGarment(t, c)
			defer img.Close()
			defer truth.Close()
			if debug != "" {
				debugMask = func(stage string, m gocv.Mat) {
					sm := gocv.NewMat()
					defer sm.Close()
					gocv.Resize(truth, &sm, image.Pt(m.Cols(), m.Rows()), 0, 0, gocv.InterpolationArea)
					gocv.Threshold(sm, &sm, 127, 255, gocv.ThresholdBinary)
					t.Logf("  stage %-9s IoU %.4f", stage, maskIoU(m, sm))
					gocv.IMWrite(filepath.Join(debug, c.name+"_"+stage+".png"), m)
				}
				defer func() { debugMask = nil }()
			}
			got, err := AutoMask(img)
			if err != nil {
				t.Fatalf("AutoMask: %v", err)
			}
			defer got.Close()
			iou := maskIoU(got, truth)
			t.Logf("%s: IoU %.4f", c.name, iou)
			if debug != "" {
				for n, m := range map[string]gocv.Mat{"photo": img, "truth": truth, "auto": got} {
					gocv.IMWrite(filepath.Join(debug, c.name+"_"+n+".png"), m)
				}
			}
			if iou < want {
				t.Errorf("IoU = %.4f; want >= %.2f", iou, want)
			}
		})
	}
}
