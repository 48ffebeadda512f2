package person

import (
	"math"
	"testing"

	"gocv.io/x/gocv"
)

func TestPoseAnchors(t *testing.T) {
	a := ssdAnchors(poseAnchorOptions())
	if len(a) != 2254 {
		t.Fatalf("anchors: got %d; want 2254 (28x28x2 + 14x14x2 + 7x7x6)", len(a))
	}
	cases := []struct {
		i    int
		want anchor
	}{
		{0, anchor{0.5 / 28, 0.5 / 28, 1, 1}},
		{1, anchor{0.5 / 28, 0.5 / 28, 1, 1}}, // second anchor of the same cell
		{2, anchor{1.5 / 28, 0.5 / 28, 1, 1}},
		{1568, anchor{0.5 / 14, 0.5 / 14, 1, 1}},   // first of the stride-16 layer
		{1960, anchor{0.5 / 7, 0.5 / 7, 1, 1}},     // first of the stride-32 layers
		{2253, anchor{6.5 / 7, 6.5 / 7, 1, 1}},     // last
		{1960 + 6, anchor{1.5 / 7, 0.5 / 7, 1, 1}}, // 6 anchors per cell at stride 32
	}
	for _, c := range cases {
		if g := a[c.i]; math.Abs(g.X-c.want.X) > 1e-12 || math.Abs(g.Y-c.want.Y) > 1e-12 || g.W != c.want.W || g.H != c.want.H {
			t.Errorf("anchor %d: got %+v; want %+v", c.i, g, c.want)
		}
	}
}

func TestDecodeDetections(t *testing.T) {
	anchors := []anchor{{0.25, 0.5, 1, 1}, {0.75, 0.5, 1, 1}}
	o := poseDecodeOptions()
	boxes := make([]float32, 2*12)
	// Anchor 0: box centre shifted by +22.4 px (0.1), 44.8 px wide, 67.2 high;
	// keypoint 0 at the anchor, keypoint 1 112 px above.
	copy(boxes, []float32{22.4, 0, 44.8, 67.2, 0, 0, 0, -112, 0, 0, 0, 0})
	scores := []float32{3, -3} // sigmoid 0.953, 0.047
	d := decodeDetections(boxes, scores, anchors, o)
	if len(d) != 1 {
		t.Fatalf("got %d detections; want 1 (the other is below 0.5)", len(d))
	}
	want := detection{XMin: 0.35 - 0.1, YMin: 0.5 - 0.15, W: 0.2, H: 0.3, Score: sigmoid(3)}
	want.KP[0] = [2]float64{0.25, 0.5}
	want.KP[1] = [2]float64{0.25, 0}
	want.KP[2] = [2]float64{0.25, 0.5}
	want.KP[3] = [2]float64{0.25, 0.5}
	if !near(d[0], want, 1e-6) {
		t.Errorf("got %+v; want %+v", d[0], want)
	}
}

func near(a, b detection, tol float64) bool {
	ok := math.Abs(a.XMin-b.XMin) < tol && math.Abs(a.YMin-b.YMin) < tol && math.Abs(a.W-b.W) < tol &&
		math.Abs(a.H-b.H) < tol && math.Abs(a.Score-b.Score) < tol
	for k := range a.KP {
		ok = ok && math.Abs(a.KP[k][0]-b.KP[k][0]) < tol && math.Abs(a.KP[k][1]-b.KP[k][1]) < tol
	}
	return ok
}

func TestWeightedNMS(t *testing.T) {
	a := detection{XMin: 0, YMin: 0, W: 1, H: 1, Score: 0.9}
	b := detection{XMin: 0.1, YMin: 0, W: 1, H: 1, Score: 0.6} // IoU 0.82 with a
	c := detection{XMin: 5, YMin: 5, W: 1, H: 1, Score: 0.7}   // far away
	zero := detection{XMin: 3, YMin: 3, Score: 0.95}           // degenerate box: must not loop
	got := weightedNMS([]detection{b, c, a, zero}, 0.3)
	if len(got) != 3 {
		t.Fatalf("got %d detections; want 3", len(got))
	}
	merged := got[1]
	wantX := (0.9*0 + 0.6*0.1) / 1.5
	if math.Abs(merged.XMin-wantX) > 1e-9 || merged.Score != 0.9 || math.Abs(merged.W-1) > 1e-9 {
		t.Errorf("merged: got %+v; want xmin %.3f, width 1, score 0.9", merged, wantX)
	}
	if got[2] != c {
		t.Errorf("third: got %+v; want the far detection unchanged", got[2])
	}
}

func TestROIFromPoints(t *testing.T) {
	// Hip centre at (100, 200), the scale point straight above: upright,
	// no rotation, size 2 * 80 * 1.25.
	r := roiFromPoints(100, 200, 100, 120)
	if math.Abs(r.Rot) > 1e-12 || r.Size != 200 || r.CX != 100 || r.CY != 200 {
		t.Errorf("upright: got %+v; want centre (100,200) size 200 rot 0", r)
	}
	// The scale point to the right: the body lies along +x, rotation +90°
	// (clockwise in image coordinates: the region's "up" points right).
	r = roiFromPoints(0, 0, 50, 0)
	if math.Abs(r.Rot-math.Pi/2) > 1e-12 {
		t.Errorf("lying: rot %.4f; want %.4f", r.Rot, math.Pi/2)
	}
	// The region's top-middle (0.5, 0) is then the scale point's direction.
	x, y := r.toFrame(0.5, 0)
	if math.Abs(x-62.5) > 1e-9 || math.Abs(y) > 1e-9 {
		t.Errorf("top middle: got (%.2f, %.2f); want (62.5, 0)", x, y)
	}
	// tensorToFrame agrees with toFrame: tensor pixel i is at i / n.
	r = roi{CX: 300, CY: 400, Size: 512, Rot: 0.3}
	m := r.tensorToFrame(256)
	defer m.Close()
	for _, p := range [][2]float64{{0, 0}, {255, 0}, {100, 37}} {
		fx := m.GetDoubleAt(0, 0)*p[0] + m.GetDoubleAt(0, 1)*p[1] + m.GetDoubleAt(0, 2)
		fy := m.GetDoubleAt(1, 0)*p[0] + m.GetDoubleAt(1, 1)*p[1] + m.GetDoubleAt(1, 2)
		wx, wy := r.toFrame(p[0]/256, p[1]/256)
		if math.Abs(fx-wx) > 1e-9 || math.Abs(fy-wy) > 1e-9 {
			t.Errorf("pixel %v: matrix gives (%.3f, %.3f); toFrame (%.3f, %.3f)", p, fx, fy, wx, wy)
		}
	}
}

func TestOneEuro(t *testing.T) {
	f := oneEuro{minCutoff: 0.05, beta: 80, dCutoff: 1}
	// Jitter of 4 px around a still point of a 200-px person is damped.
	var got, prev float64
	for i := 0; i < 60; i++ {
		v := 100.0
		if i%2 == 1 {
			v = 104
		}
		prev, got = got, f.filter(v, 1.0/200, float64(i)/30)
	}
	if amp := math.Abs(got - prev); amp > 2 {
		t.Errorf("jitter: output swings %.2f px; want under half the input's 4", amp)
	}
	// A fast move is followed with little lag (beta).
	f.reset()
	for i := 0; i < 30; i++ {
		got = f.filter(float64(i)*20, 1.0/200, float64(i)/30)
	}
	if lag := 29*20 - got; lag > 40 {
		t.Errorf("fast move: lag %.1f px; want under 40", lag)
	}
}

func TestPickKeyPrefersLargeCentralPeople(t *testing.T) {
	centre := pickKey(100, 320, 640)
	side := pickKey(100, 620, 640)
	small := pickKey(40, 320, 640)
	if !(centre > side && centre > small) {
		t.Errorf("keys: centre %.1f, side %.1f, small %.1f; want the large central one first", centre, side, small)
	}
}

func TestSmoothMaskKeepsConfidentPixels(t *testing.T) {
	cur := gocv.NewMatWithSize(1, 3, gocv.MatTypeCV8UC1)
	defer cur.Close()
	prev := gocv.NewMatWithSize(1, 3, gocv.MatTypeCV8UC1)
	defer prev.Close()
	for i, v := range []uint8{0, 128, 255} {
		cur.SetUCharAt(0, i, v)
		prev.SetUCharAt(0, i, 255-v)
	}
	prev.SetUCharAt(0, 1, 0)
	smoothMask(cur, prev)
	if g := cur.GetUCharAt(0, 0); g != 0 {
		t.Errorf("confident background: got %d; want 0 kept", g)
	}
	if g := cur.GetUCharAt(0, 2); g != 255 {
		t.Errorf("confident person: got %d; want 255 kept", g)
	}
	// 128 is as unsure as can be: it moves 0.7 of the way to the previous 0.
	if g := cur.GetUCharAt(0, 1); g < 37 || g > 40 {
		t.Errorf("unsure pixel: got %d; want about 0.3 * 128 = 38", g)
	}
}
