package garments

import (
	"errors"
	"fmt"
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

// BenchmarkAutoMask times the automatic mask on a synthetic shop photo of
// each size (segmentation runs at workSide pixels at most).
func BenchmarkAutoMask(b *testing.B) {
	for _, sz := range [][2]int{{600, 800}, {1500, 2000}} {
		b.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(b *testing.B) {
			b.StopTimer()
			c := synthCases[0]
			c.w, c.h = sz[0], sz[1]
			img, truth := synthGarment(b, c)
			defer img.Close()
			defer truth.Close()
			b.ReportAllocs()
			b.StartTimer()
			for i := 0; i < b.N; i++ {
				m, err := AutoMask(img)
				if err != nil {
					b.Fatal(err)
				}
				m.Close()
			}
		})
	}
}

// TestAutoMaskEdgeCases: odd inputs give a mask or ErrNoGarment, never a
// crash (OpenCV exceptions abort the process).
func TestAutoMaskEdgeCases(t *testing.T) {
	fill := func(w, h int, bg gocv.Scalar, r image.Rectangle, fg gocv.Scalar) gocv.Mat {
		m := gocv.NewMatWithSizeFromScalar(bg, h, w, gocv.MatTypeCV8UC3)
		if !r.Empty() {
			reg := m.Region(r)
			reg.SetTo(fg)
			reg.Close()
		}
		return m
	}
	white, navy := gocv.NewScalar(245, 245, 245, 0), gocv.NewScalar(90, 30, 20, 0)
	tests := []struct {
		name    string
		img     gocv.Mat
		wantErr error
		minFill float64 // share of the image the mask covers, at least
		maxFill float64
	}{
		{"blank", fill(300, 400, white, image.Rectangle{}, navy), ErrNoGarment, 0, 0},
		{"fills the frame", fill(300, 400, navy, image.Rectangle{}, navy), ErrNoGarment, 0, 0},
		{"garment touches the border", fill(300, 400, white, image.Rect(50, 50, 250, 400), navy), nil, 0.56, 0.6},
		{"smallest image", fill(MinSide, MinSide, white, image.Rect(8, 8, 24, 24), navy), nil, 0.2, 0.45},
		{"very wide", fill(4000, MinSide, white, image.Rect(1000, 8, 3000, 24), navy), nil, 0.2, 0.3},
		{"very tall", fill(MinSide, 4000, white, image.Rect(8, 1000, 24, 3000), navy), nil, 0.2, 0.3},
		{"dark background", fill(300, 400, gocv.NewScalar(20, 20, 20, 0), image.Rect(60, 80, 240, 320), gocv.NewScalar(200, 220, 240, 0)), nil, 0.34, 0.38},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.img.Close()
			m, err := AutoMask(tt.img)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("AutoMask error = %v; want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("AutoMask: %v", err)
			}
			defer m.Close()
			if m.Cols() != tt.img.Cols() || m.Rows() != tt.img.Rows() {
				t.Fatalf("mask %dx%d; want %dx%d", m.Cols(), m.Rows(), tt.img.Cols(), tt.img.Rows())
			}
			got := float64(gocv.CountNonZero(m)) / float64(m.Cols()*m.Rows())
			if got < tt.minFill || got > tt.maxFill {
				t.Errorf("mask covers %.3f of the image; want %.2f..%.2f", got, tt.minFill, tt.maxFill)
			}
		})
	}
	var empty gocv.Mat = gocv.NewMat()
	defer empty.Close()
	if _, err := AutoMask(empty); err == nil {
		t.Errorf("AutoMask(empty Mat) succeeded")
	}
}
