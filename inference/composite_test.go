package inference

import (
	"image"
	"image/color"
	"math"
	"math/rand"
	"testing"

	"gocv.io/x/gocv"

	"mgvton/internal/matleak"
)

// synthBody is a person drawn into a w x h frame at scale s (1 = a
// 320x240 frame): a head disc and a torso with arms, the forearms crossing
// in front of the torso. The caller closes the Body.
func synthBody(w, h int, s float64) *Body { return synthBodyHead(w, h, s, 60) }

// synthBodyHead is synthBody with the head's centre (and nose) at headY:
// 60 upright, 80 bowed so that the chin nearly meets the shoulder line.
func synthBodyHead(w, h int, s, headY float64) *Body {
	p := func(x, y float64) image.Point { return image.Pt(int(x*s), int(y*s)) }
	kp := func(x, y float64) Keypoint { return Keypoint{x * s, y * s, 0.9} }
	mask := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC1)
	mask.SetTo(gocv.Scalar{})
	white := color.RGBA{255, 255, 255, 0}
	gocv.Circle(&mask, p(160, headY), int(20*s), white, -1)                    // head
	gocv.Rectangle(&mask, image.Rectangle{p(150, 76), p(170, 112)}, white, -1) // neck
	torso := gocv.NewPointsVectorFromPoints([][]image.Point{{p(104, 100), p(216, 100), p(200, 240), p(120, 240)}})
	gocv.FillPoly(&mask, torso, white)
	torso.Close()
	for _, seg := range [][2]image.Point{{p(116, 108), p(100, 160)}, {p(100, 160), p(140, 190)},
		{p(204, 108), p(220, 160)}, {p(220, 160), p(180, 190)}} {
		gocv.Line(&mask, seg[0], seg[1], white, int(24*s))
	}
	return &Body{
		Mask:          mask,
		Nose:          kp(160, headY),
		LeftShoulder:  kp(200, 110), // the person's left is the picture's right
		RightShoulder: kp(120, 110),
		LeftElbow:     kp(220, 160),
		RightElbow:    kp(100, 160),
		LeftWrist:     kp(180, 190),
		RightWrist:    kp(140, 190),
		LeftHip:       kp(190, 225),
		RightHip:      kp(130, 225),
	}
}

// noiseFrame returns a w x h BGR frame of random pixels.
func noiseFrame(w, h int, seed int64) gocv.Mat {
	data := make([]byte, w*h*3)
	rand.New(rand.NewSource(seed)).Read(data)
	m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, data)
	if err != nil {
		panic(err)
	}
	return m
}

// paintAll is a model output that paints the whole crop white, with a
// garment mask of the given value everywhere.
func paintAll(w, h int, maskValue float32) (gen, warp tensors) {
	t := make([]float32, 3*w*h)
	for i := range t {
		t[i] = 1
	}
	m := make([]float32, w*h)
	for i := range m {
		m[i] = maskValue
	}
	return tensors{TensorTryOn: t}, tensors{TensorWarpedMask: m}
}

func TestCompositeWithBody(t *testing.T) {
	matleak.Check(t)
	const fw, fh = 320, 240
	box := image.Rect(70, 0, 250, 240)
	for _, c := range []struct {
		name      string
		maskValue float32
		headY     float64
	}{
		{"garment everywhere", 1, 60},
		{"no garment: the old garment's torso only", 0, 60},
		{"garment everywhere, head bowed to the shoulders", 1, 80},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := synthBodyHead(fw, fh, 1, c.headY)
			defer body.Close()
			frame := noiseFrame(fw, fh, 1)
			defer frame.Close()
			orig := frame.Clone()
			defer orig.Close()
			comp := NewCompositor(96, 128) // a feather of 240/128 px
			defer comp.Close()
			gen, warp := paintAll(96, 128, c.maskValue)
			if err := comp.Composite(&frame, gen, warp, box, body); err != nil {
				t.Fatal(err)
			}
			mask, _ := body.Mask.DataPtrUint8()
			a, _ := frame.DataPtrUint8()
			b, _ := orig.DataPtrUint8()
			same := func(x, y int) bool {
				i := (y*fw + x) * 3
				return a[i] == b[i] && a[i+1] == b[i+1] && a[i+2] == b[i+2]
			}
			outside, changedOutside := 0, 0
			for y := 0; y < fh; y++ {
				for x := 0; x < fw; x++ {
					if mask[y*fw+x] < PersonThreshold {
						outside++
						if !same(x, y) {
							changedOutside++
						}
					}
				}
			}
			if outside == 0 || changedOutside != 0 {
				t.Errorf("pixels outside the person changed: got %d of %d; want 0", changedOutside, outside)
			}
			// The head and the neck keep the camera's pixels, down to the
			// shoulder line less the neck's margin (0.08 shoulder widths)
			// and the feather's reach (6 px here).
			for y := 28; y < 97; y++ {
				for x := 128; x < 192; x++ {
					if mask[y*fw+x] >= PersonThreshold && !same(x, y) {
						t.Fatalf("face/neck pixel (%d,%d) changed", x, y)
					}
				}
			}
			// The whole head, however low it is.
			for y := int(c.headY) - 20; y <= int(c.headY)+20; y++ {
				for x := 140; x <= 180; x++ {
					if math.Hypot(float64(x-160), float64(y)-c.headY) <= 20 && !same(x, y) {
						t.Fatalf("head pixel (%d,%d) changed", x, y)
					}
				}
			}
			// So do the forearms and hands in front of the torso.
			for _, pt := range []image.Point{{140, 190}, {180, 190}, {120, 175}, {200, 175}, {150, 197}} {
				if !same(pt.X, pt.Y) {
					t.Errorf("forearm/hand pixel %v changed", pt)
				}
			}
			// The chest and belly take the try-on (white).
			for _, pt := range []image.Point{{160, 150}, {195, 225}, {130, 135}, {190, 135}} {
				i := (pt.Y*fw + pt.X) * 3
				if a[i] != 255 || a[i+1] != 255 || a[i+2] != 255 {
					t.Errorf("torso pixel %v: got %v; want the try-on's white", pt, a[i:i+3])
				}
			}
		})
	}
}

func TestCompositeWithoutBodyPastesTheCrop(t *testing.T) {
	matleak.Check(t)
	frame := noiseFrame(320, 240, 2)
	defer frame.Close()
	orig := frame.Clone()
	defer orig.Close()
	comp := NewCompositor(48, 64)
	defer comp.Close()
	box := image.Rect(70, 0, 250, 240)
	gen, warp := paintAll(48, 64, 0)
	if err := comp.Composite(&frame, gen, warp, box, nil); err != nil {
		t.Fatal(err)
	}
	a, _ := frame.DataPtrUint8()
	b, _ := orig.DataPtrUint8()
	for y := 0; y < 240; y++ {
		for x := 0; x < 320; x++ {
			i := (y*320 + x) * 3
			in := image.Pt(x, y).In(box)
			changed := a[i] != b[i] || a[i+1] != b[i+1] || a[i+2] != b[i+2]
			if !in && changed {
				t.Fatalf("pixel (%d,%d) outside the box changed", x, y)
			}
		}
	}
	if v := frame.GetVecbAt(120, 160); v[0] != 255 || v[1] != 255 || v[2] != 255 {
		t.Errorf("box centre: got %v; want the try-on's white", v)
	}
	if v, o := frame.GetVecbAt(120, 70), orig.GetVecbAt(120, 70); v[0] == 255 || v[0] == o[0] && v[1] == o[1] && v[2] == o[2] {
		t.Errorf("box edge: got %v (frame %v); want a feathered blend", v, o)
	}
}

func TestCompositeRejectsAMaskOfAnotherSize(t *testing.T) {
	matleak.Check(t)
	frame := noiseFrame(320, 240, 3)
	defer frame.Close()
	body := synthBody(160, 120, 0.5)
	defer body.Close()
	comp := NewCompositor(48, 64)
	defer comp.Close()
	gen, warp := paintAll(48, 64, 1)
	if err := comp.Composite(&frame, gen, warp, image.Rect(70, 0, 250, 240), body); err == nil {
		t.Error("person mask 160x120 on a 320x240 frame: got no error")
	}
}

func TestTorso(t *testing.T) {
	kp := func(x, y float64) Keypoint { return Keypoint{x, y, 0.9} }
	cases := []struct {
		name       string
		body       Body
		ok         bool
		minY, maxY int // the polygon's vertical extent
	}{
		{"hips seen", Body{LeftShoulder: kp(200, 100), RightShoulder: kp(100, 100), LeftHip: kp(190, 250), RightHip: kp(110, 250)},
			true, 100 - 18, 250 + 12},
		// A close-up: hips below the frame are extrapolated 1.35 shoulder widths down.
		{"hips extrapolated", Body{LeftShoulder: kp(200, 100), RightShoulder: kp(100, 100)},
			true, 100 - 18, 100 + 135 + 12},
		{"one shoulder", Body{LeftShoulder: kp(200, 100), RightShoulder: Keypoint{100, 100, 0.1}}, false, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			poly, ok := c.body.Torso()
			if ok != c.ok {
				t.Fatalf("ok: got %v; want %v", ok, c.ok)
			}
			if !ok {
				return
			}
			lo, hi := poly[0].Y, poly[0].Y
			for _, p := range poly {
				lo, hi = min(lo, p.Y), max(hi, p.Y)
			}
			if lo < c.minY-1 || lo > c.minY+1 || hi < c.maxY-1 || hi > c.maxY+1 {
				t.Errorf("vertical extent: got %d..%d; want %d..%d", lo, hi, c.minY, c.maxY)
			}
		})
	}
}

// BenchmarkComposite times compositing one try-on into a 1280x720 frame
// (crop 540x720), with a body (segmented) and without (whole-crop paste).
func BenchmarkComposite(b *testing.B) {
	const fw, fh = 1280, 720
	frame := noiseFrame(fw, fh, 4)
	defer frame.Close()
	body := synthBody(fw, fh, 3) // the 320x240 person at 960x720, placed left
	defer body.Close()
	box := image.Rect(210, 0, 750, 720)
	gen, warp := paintAll(192, 256, 0.5)
	for _, c := range []struct {
		name string
		body *Body
	}{{"segmented", body}, {"whole-crop", nil}} {
		b.Run(c.name, func(b *testing.B) {
			comp := NewCompositor(192, 256)
			defer comp.Close()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := comp.Composite(&frame, gen, warp, box, c.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestProcessKeepsTheRoomAndTheFace runs the whole offline path (pose
// models, framing, model, compositing) on a frame of the demo clip: the
// body-aware composite must be used, pixels outside the person mask must be
// bit-identical and the head above the shoulders unchanged.
func TestProcessKeepsTheRoomAndTheFace(t *testing.T) {
	matleak.Check(t)
	p, _ := newTestPipelineWith(t, PipelineOptions{Framing: FramingOn, KeepMasks: true})
	frame := demoFrame(t)
	res, err := p.Process(t0ctx, Frame{Mat: frame.Clone()})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if !res.Applied || res.Body == nil || !res.Masks.Segmented {
		t.Fatalf("got Applied=%v body=%v segmented=%v; want a body-aware try-on", res.Applied, res.Body != nil, res.Masks.Segmented)
	}
	w := frame.Cols()
	a, _ := res.TryOn.DataPtrUint8()
	b, _ := frame.DataPtrUint8()
	mask, _ := res.Body.Mask.DataPtrUint8()
	outside, changed, inside, changedIn := 0, 0, 0, 0
	for i, v := range mask {
		diff := a[3*i] != b[3*i] || a[3*i+1] != b[3*i+1] || a[3*i+2] != b[3*i+2]
		if v < PersonThreshold {
			outside++
			if diff {
				changed++
			}
		} else {
			inside++
			if diff {
				changedIn++
			}
		}
	}
	if outside == 0 || changed != 0 {
		t.Errorf("pixels outside the person changed: got %d of %d; want 0", changed, outside)
	}
	if changedIn < inside/10 {
		t.Errorf("pixels of the person changed: got %d of %d; want the garment drawn in", changedIn, inside)
	}
	// The head: everything above the shoulder line by more than the
	// highest a garment reaches (0.35 shoulder widths), and the face down
	// to the chin (a box around the nose and ears reaching 0.15 shoulder
	// widths below the nose).
	bd := res.Body
	sw := math.Hypot(bd.LeftShoulder.X-bd.RightShoulder.X, bd.LeftShoulder.Y-bd.RightShoulder.Y)
	ceil := int(min(bd.LeftShoulder.Y, bd.RightShoulder.Y) - 0.35*sw)
	if ceil < 20 {
		t.Fatalf("shoulders at y=%.0f: the demo frame should show a head above them", bd.LeftShoulder.Y)
	}
	face := image.Rect(int(min(bd.LeftEar.X, bd.RightEar.X, bd.Nose.X)), 0,
		int(max(bd.LeftEar.X, bd.RightEar.X, bd.Nose.X)), int(bd.Nose.Y+0.15*sw))
	for y := 0; y < res.TryOn.Rows(); y++ {
		for x := 0; x < w; x++ {
			if y >= ceil && !image.Pt(x, y).In(face) {
				continue
			}
			i := 3 * (y*w + x)
			if a[i] != b[i] || a[i+1] != b[i+1] || a[i+2] != b[i+2] {
				t.Fatalf("head pixel (%d,%d) changed", x, y)
			}
		}
	}
}

// TestProcessPassesThroughAHeldBox: when the person is lost the framer
// holds the last box for a while, but with no person mask for the frame
// the try-on could only be pasted over the room: the frame passes through.
func TestProcessPassesThroughAHeldBox(t *testing.T) {
	matleak.Check(t)
	p, _ := newTestPipelineWith(t, PipelineOptions{Framing: FramingOn})
	frame := demoFrame(t)
	first, err := p.Process(t0ctx, Frame{Mat: frame.Clone()})
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	if !first.Applied {
		t.Fatal("demo frame: no try-on")
	}
	empty := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 120, 140, 0), frame.Rows(), frame.Cols(), gocv.MatTypeCV8UC3)
	res, err := p.Process(t0ctx, Frame{Mat: empty})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if !res.Person || res.Applied {
		t.Errorf("frame with nobody after a person: got Person=%v Applied=%v; want the box held and no try-on", res.Person, res.Applied)
	}
	if !equalMats(res.Frame, res.TryOn) {
		t.Error("frame with nobody changed")
	}
}
