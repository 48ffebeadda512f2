package inference

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gocv.io/x/gocv"

	"mgvton/person"
)

// Keypoint is a body landmark in frame pixels. Score in [0, 1] is how sure
// the pose model is that the point is visible; points below MinKeypointScore
// are treated as unknown. Points may lie outside the frame (a webcam
// close-up with the hips below its bottom edge).
type Keypoint struct {
	X, Y  float64
	Score float64
}

// MinKeypointScore is the score below which a keypoint is not used.
const MinKeypointScore = 0.5

func (k Keypoint) ok() bool { return k.Score >= MinKeypointScore }

func (k Keypoint) pt() vec2 { return vec2{k.X, k.Y} }

// Body is what compositing needs to know about the person in a frame: the
// person mask and the upper-body keypoints, all at the frame's resolution.
type Body struct {
	// Mask is the person segmentation, 8UC1 at the frame's size: 0 is
	// background, 255 is person. The Body owns it (Close).
	Mask gocv.Mat

	Nose, LeftEar, RightEar     Keypoint
	LeftShoulder, RightShoulder Keypoint
	LeftElbow, RightElbow       Keypoint
	LeftWrist, RightWrist       Keypoint
	// LeftHand, RightHand are the middle of the pinky, index and thumb
	// keypoints.
	LeftHand, RightHand Keypoint
	LeftHip, RightHip   Keypoint
}

// Close releases the mask. It is safe on a nil Body and more than once.
func (b *Body) Close() {
	if b == nil {
		return
	}
	if b.Mask.Ptr() != nil {
		b.Mask.Close()
		b.Mask = gocv.Mat{}
	}
}

// PersonThreshold is the mask value from which a pixel counts as person.
const PersonThreshold = 128

// Torso returns the region the upper garment occupies on this body, as a
// polygon in frame pixels: the quadrilateral through the shoulders and hips,
// widened to the body's outline and reaching up over the shoulder tops and
// down past the hips. Hips that are not visible (a close-up) are
// extrapolated from the shoulders. ok is false without both shoulders.
func (b *Body) Torso() (poly []image.Point, ok bool) {
	g, ok := b.geometry()
	if !ok {
		return nil, false
	}
	q := []vec2{
		g.at(-0.5-torsoSide, -torsoUp), g.at(0.5+torsoSide, -torsoUp),
		g.hipAt(1, torsoSide, torsoDown), g.hipAt(-1, torsoSide, torsoDown),
	}
	poly = make([]image.Point, len(q))
	for i, p := range q {
		poly[i] = p.round()
	}
	return poly, true
}

// Torso proportions, in shoulder widths (the distance between the shoulder
// keypoints, which sit on the joints, inside the body's outline).
const (
	torsoSide   = 0.22 // beyond each shoulder and hip keypoint, sideways
	torsoUp     = 0.18 // above the shoulder line (the shoulder's top)
	torsoDown   = 0.12 // below the hip line
	torsoLength = 1.35 // shoulder line to hip line, when the hips are not seen
	hipWidth    = 0.75 // hip keypoint distance, when the hips are not seen
	ceilingUp   = 0.35 // nothing above this height over the shoulder line is replaced
	headHalf    = 0.27 // the head's half width (at least; 0.7 ear distances if larger)
	headTall    = 1.3  // the head's height above its centre, in half widths
	headChin    = 1.0  // the chin below the head's centre, in half widths
	earDrop     = 0.47 // ear line above the shoulder line, when no face point is seen
	neckHalfW   = 0.17 // the neck's half width
	neckBottom  = 0.08 // the neck's exclusion ends this far above the shoulder line
	forearmR    = 0.15 // forearm radius
	handLen     = 0.45 // the hand beyond the wrist, in forearm lengths
	handR       = 0.20 // hand radius
)

// bodyGeometry is a body frame: origin between the shoulders, u along the
// shoulders (left to right in the picture), v down the torso, lengths in
// shoulder widths.
type bodyGeometry struct {
	mid, u, v vec2
	sw        float64 // shoulder width, px
	hipMid    vec2
	hipU      vec2 // from the hip midpoint to the right hip, per unit of hip width
	hipW      float64
}

func (b *Body) geometry() (bodyGeometry, bool) {
	ls, rs := b.LeftShoulder, b.RightShoulder
	if !ls.ok() || !rs.ok() {
		return bodyGeometry{}, false
	}
	// u points from the picture-left shoulder to the picture-right one.
	a, c := ls.pt(), rs.pt()
	if a.x > c.x {
		a, c = c, a
	}
	var g bodyGeometry
	g.mid = a.add(c).scale(0.5)
	d := c.sub(a)
	g.sw = d.len()
	lh, rh := b.LeftHip, b.RightHip
	hipsSeen := lh.ok() && rh.ok()
	torso := 0.0
	if hipsSeen {
		torso = lh.pt().add(rh.pt()).scale(0.5).sub(g.mid).len()
	}
	// A body turned sideways has its shoulders close together: the torso
	// length keeps the scale sane.
	if g.sw < torso/torsoLength*0.6 {
		g.sw = torso / torsoLength * 0.6
	}
	if g.sw < 1 {
		return bodyGeometry{}, false
	}
	if d.len() > 1e-6 {
		g.u = d.scale(1 / d.len())
	} else {
		g.u = vec2{1, 0}
	}
	g.v = vec2{-g.u.y, g.u.x} // perpendicular, pointing down the picture
	if g.v.y < 0 {
		g.v = g.v.scale(-1)
	}
	if hipsSeen {
		h1, h2 := lh.pt(), rh.pt()
		if h1.x > h2.x {
			h1, h2 = h2, h1
		}
		g.hipMid = h1.add(h2).scale(0.5)
		g.hipW = h2.sub(h1).len() / g.sw
		if hd := h2.sub(h1); hd.len() > 1e-6 {
			g.hipU = hd.scale(1 / hd.len())
		} else {
			g.hipU = g.u
		}
		// The torso runs down towards the hips.
		if dv := g.hipMid.sub(g.mid); dv.len() > 1e-6 {
			g.v = dv.scale(1 / dv.len())
		}
	} else {
		g.hipMid = g.mid.add(g.v.scale(torsoLength * g.sw))
		g.hipW = hipWidth
		g.hipU = g.u
	}
	return g, true
}

// at returns the point s shoulder widths along u and t down v from the
// shoulder midpoint.
func (g bodyGeometry) at(s, t float64) vec2 {
	return g.mid.add(g.u.scale(s * g.sw)).add(g.v.scale(t * g.sw))
}

// hipAt returns the point beside the hip midpoint: side is -1 (picture
// left) or 1, out is the margin beyond the hip keypoint and t the distance
// below the hip line, both in shoulder widths.
func (g bodyGeometry) hipAt(side, out, t float64) vec2 {
	s := side * (g.hipW/2 + out)
	return g.hipMid.add(g.hipU.scale(s * g.sw)).add(g.v.scale(t * g.sw))
}

// ceiling returns the polygon above the highest a garment reaches (well
// over the shoulder tops), grown down by margin pixels.
func (g bodyGeometry) ceiling(margin float64) []vec2 {
	const far = 40.0 // shoulder widths: beyond any frame
	m := g.v.scale(margin)
	return []vec2{g.at(-far, -ceilingUp).add(m), g.at(far, -ceilingUp).add(m), g.at(far, -far), g.at(-far, -far)}
}

// head returns the head (face, hair, chin) as an ellipse polygon grown by
// margin pixels, centred between the ears and the nose as far as they are
// seen, else where the ears sit over the shoulders.
func (b *Body) head(g bodyGeometry, margin float64) []vec2 {
	c := g.at(0, -earDrop)
	half := headHalf * g.sw
	ears := b.LeftEar.ok() && b.RightEar.ok()
	switch {
	case ears && b.Nose.ok():
		c = b.LeftEar.pt().add(b.RightEar.pt()).scale(0.5).add(b.Nose.pt()).scale(0.5)
	case ears:
		c = b.LeftEar.pt().add(b.RightEar.pt()).scale(0.5)
	case b.Nose.ok():
		c = b.Nose.pt()
	}
	if ears {
		half = max(half, 0.7*b.LeftEar.pt().sub(b.RightEar.pt()).len())
	}
	const n = 32
	pts := make([]vec2, n)
	for i := range pts {
		t := 2 * math.Pi * float64(i) / n
		// Taller above the centre (hair) than below it (the chin).
		tall := headTall * half
		if math.Sin(t) > 0 {
			tall = headChin * half
		}
		pts[i] = c.add(g.u.scale(math.Cos(t) * (half + margin))).add(g.v.scale(math.Sin(t) * (tall + margin)))
	}
	return pts
}

// neck returns the neck between the head and the shoulders: a band under
// the head's centre down to just above the shoulder line.
func (b *Body) neck(g bodyGeometry) []vec2 {
	head := b.head(g, 0)
	var c vec2
	for _, p := range head {
		c = c.add(p)
	}
	c = c.scale(1 / float64(len(head)))
	// The head centre, in the body frame.
	d := c.sub(g.mid)
	s := (d.x*g.u.x + d.y*g.u.y) / g.sw
	t := (d.x*g.v.x + d.y*g.v.y) / g.sw
	if t >= -neckBottom {
		return nil // a head bowed to the shoulders: no neck shows
	}
	return []vec2{g.at(s-neckHalfW, t), g.at(s+neckHalfW, t), g.at(s+neckHalfW, -neckBottom), g.at(s-neckHalfW, -neckBottom)}
}

// forearms returns the capsules (segment + radius, px) of the forearms and
// hands that are in view.
func (b *Body) forearms(g bodyGeometry) []capsule {
	var out []capsule
	for _, arm := range [][3]Keypoint{{b.LeftElbow, b.LeftWrist, b.LeftHand}, {b.RightElbow, b.RightWrist, b.RightHand}} {
		e, w, h := arm[0], arm[1], arm[2]
		if !w.ok() {
			continue
		}
		if e.ok() {
			out = append(out, capsule{e.pt(), w.pt(), forearmR * g.sw})
		}
		// The hand: from the wrist past the hand keypoints, or along the
		// forearm without them.
		var tip vec2
		r := handR * g.sw
		switch {
		case h.ok():
			d := h.pt().sub(w.pt())
			tip = w.pt().add(d.scale(1.5))
			r = max(r, 0.9*d.len())
		case e.ok():
			tip = w.pt().add(w.pt().sub(e.pt()).scale(handLen))
		default:
			tip = w.pt()
		}
		out = append(out, capsule{w.pt(), tip, r})
	}
	return out
}

type capsule struct {
	a, b vec2
	r    float64
}

// Compositor puts a try-on back into the camera frame at the frame's
// resolution. With a Body it replaces only the garment region: the model's
// garment masks plus the old upper garment's area on the torso, minus the
// head, the neck above the shoulders and the forearms and hands, with a
// feathered edge inside the person mask; pixels outside the person mask are
// left bit-identical. Without a Body it pastes the whole crop back with a
// feathered border (the behaviour before person models). A Compositor keeps
// scratch Mats and is used by one goroutine at a time.
type Compositor struct {
	w, h int // model size

	small, big gocv.Mat // try-on at model size, at box size
	gsmall     gocv.Mat // garment mask at model size
	gbig       gocv.Mat // garment mask at box size
	region     gocv.Mat // region to replace, ROI-sized 8UC1
	gate       gocv.Mat // person mask >= PersonThreshold, ROI-sized
	torso      gocv.Mat // torso polygon, ROI-sized
	alpha      gocv.Mat // final alpha, ROI-sized
	gmaskBuf   []float32
	feather    feather

	// Keep, when set, makes Composite keep the masks of its last run for
	// Last (evaluation only: it costs copies).
	Keep bool
	last CompositeMasks
}

// CompositeMasks are the masks of one composite, for evaluation. All are
// 8UC1 at the frame's size (0 or 255 unless noted); the owner closes them.
type CompositeMasks struct {
	// Alpha is the blend weight of the try-on (0..255).
	Alpha gocv.Mat
	// Garment is the model's garment mask (max of the warped and composite
	// masks), upsampled to the frame, before any person gating (0..255).
	Garment gocv.Mat
	// Torso is the torso polygon of the body (nil without a Body).
	Torso []image.Point
	// Segmented reports whether a Body was used (false: whole-crop paste).
	Segmented bool
}

// Close releases the masks.
func (m *CompositeMasks) Close() {
	if m.Alpha.Ptr() != nil {
		m.Alpha.Close()
	}
	if m.Garment.Ptr() != nil {
		m.Garment.Close()
	}
	*m = CompositeMasks{}
}

// NewCompositor returns a compositor for a model of input size w x h.
func NewCompositor(w, h int) *Compositor {
	c := &Compositor{w: w, h: h}
	for _, m := range c.mats() {
		*m = gocv.NewMat()
	}
	return c
}

func (c *Compositor) mats() []*gocv.Mat {
	return []*gocv.Mat{&c.small, &c.big, &c.gsmall, &c.gbig, &c.region, &c.gate, &c.torso, &c.alpha}
}

// Close releases the scratch Mats. It is idempotent.
func (c *Compositor) Close() {
	for _, m := range c.mats() {
		if m.Ptr() != nil {
			m.Close()
			*m = gocv.Mat{}
		}
	}
	c.last.Close()
}

// Last returns the masks of the last Composite when Keep is set, and
// hands them over: the caller closes them.
func (c *Compositor) Last() CompositeMasks {
	m := c.last
	c.last = CompositeMasks{}
	return m
}

// Composite blends the model's outputs for the crop box into dst (BGR
// 8UC3, the frame): gen holds the try-on image and the optional composite
// mask, warp the warped-garment mask, all at the model's size. body may be
// nil.
func (c *Compositor) Composite(dst *gocv.Mat, gen, warp tensors, box image.Rectangle, body *Body) error {
	tryon := gen[TensorTryOn]
	if err := tensorToImage(&c.small, tryon, c.w, c.h); err != nil {
		return err
	}
	frameR := image.Rect(0, 0, dst.Cols(), dst.Rows())
	inter := box.Intersect(frameR)
	if inter.Empty() || box.Dx() < 2 || box.Dy() < 2 {
		return fmt.Errorf("inference: paste box %v outside frame %dx%d", box, dst.Cols(), dst.Rows())
	}
	resizeTo(&c.big, c.small, box.Dx(), box.Dy())
	if c.Keep {
		c.last.Close()
	}
	if body == nil || body.Mask.Ptr() == nil {
		if c.Keep {
			c.keepWhole(frameR, inter, box, gen, warp)
		}
		return pasteBack(dst, c.big, box, &c.feather)
	}
	if body.Mask.Cols() != dst.Cols() || body.Mask.Rows() != dst.Rows() || body.Mask.Type() != gocv.MatTypeCV8UC1 {
		return fmt.Errorf("inference: person mask %dx%d type %v does not match frame %dx%d",
			body.Mask.Cols(), body.Mask.Rows(), body.Mask.Type(), dst.Cols(), dst.Rows())
	}
	if err := c.garmentMask(gen, warp, box); err != nil {
		return err
	}
	rw, rh := inter.Dx(), inter.Dy()
	off := inter.Min

	// The garment region: the model's garment masks ...
	groi := c.gbig.Region(inter.Sub(box.Min))
	groi.CopyTo(&c.region)
	groi.Close()
	// ... gated by the person ...
	mroi := body.Mask.Region(inter)
	gocv.Threshold(mroi, &c.gate, PersonThreshold-1, 255, gocv.ThresholdBinary)
	mroi.Close()
	geo, hasGeo := body.geometry()
	// The feather is about one model pixel at the box's scale; exclusion
	// zones are grown by the blur's radius so that the blur cannot carry the
	// try-on into them.
	sigma := math.Max(1, float64(box.Dy())/float64(c.h))
	radius := int(math.Ceil(3 * sigma))
	var torso []image.Point
	if hasGeo {
		// ... plus the old upper garment: the torso polygon on the person.
		torso, _ = body.Torso()
		ensureMat(&c.torso, rw, rh, gocv.MatTypeCV8UC1)
		c.torso.SetTo(gocv.Scalar{})
		fillPoly(&c.torso, torso, off, 255)
		gocv.BitwiseAnd(c.torso, c.gate, &c.torso)
		gocv.Max(c.region, c.torso, &c.region)
		// The head and neck, anything far above the shoulders, and the
		// forearms and hands keep the camera's pixels. The head's and the
		// ceiling's zones are grown by the feather's radius: the blur
		// cannot reach the face.
		for _, zone := range [][]vec2{geo.ceiling(float64(radius)), body.head(geo, float64(radius)), body.neck(geo)} {
			if len(zone) > 0 {
				fillPoly(&c.region, roundAll(zone), off, 0)
			}
		}
		for _, cap := range body.forearms(geo) {
			drawCapsule(&c.region, cap, off, float64(radius), 0)
		}
	}
	// Gate by the person before the feather too, so that what the model
	// painted over the room cannot bleed into the person (the neck's edge)
	// through the blur; the garment's edge on the silhouette is feathered
	// inwards.
	gocv.Min(c.region, c.gate, &c.region)
	k := 2*radius + 1
	gocv.GaussianBlur(c.region, &c.alpha, image.Pt(k, k), sigma, sigma, gocv.BorderReplicate)
	gocv.Min(c.alpha, c.gate, &c.alpha)

	if c.Keep {
		c.keepSegmented(frameR, inter, box, torso)
	}
	return blendAlpha(dst, c.big, c.alpha, box, inter)
}

// garmentMask fills c.gbig with the model's garment mask (the larger of
// the warped-garment and composite masks) at the box's size.
func (c *Compositor) garmentMask(gen, warp tensors, box image.Rectangle) error {
	n := c.w * c.h
	if cap(c.gmaskBuf) < n {
		c.gmaskBuf = make([]float32, n)
	}
	buf := c.gmaskBuf[:n]
	clear(buf)
	found := false
	for _, m := range [][]float32{warp[TensorWarpedMask], gen[TensorWarpedMask], gen[TensorCompositeMask]} {
		if m == nil {
			continue
		}
		if len(m) != n {
			return fmt.Errorf("inference: garment mask of %d values; want %d", len(m), n)
		}
		found = true
		for i, v := range m {
			buf[i] = max(buf[i], v)
		}
	}
	if !found {
		return fmt.Errorf("inference: model outputs no %s or %s mask", TensorWarpedMask, TensorCompositeMask)
	}
	if err := tensorToMask(&c.gsmall, buf, c.w, c.h); err != nil {
		return err
	}
	gocv.Resize(c.gsmall, &c.gbig, image.Pt(box.Dx(), box.Dy()), 0, 0, gocv.InterpolationLinear)
	return nil
}

// keepWhole records the masks of a whole-crop paste.
func (c *Compositor) keepWhole(frameR, inter, box image.Rectangle, gen, warp tensors) {
	a := gocv.NewMatWithSize(frameR.Dy(), frameR.Dx(), gocv.MatTypeCV8UC1)
	alpha := c.feather.get(box.Dx(), box.Dy())
	if pix, err := a.DataPtrUint8(); err == nil {
		for y := inter.Min.Y; y < inter.Max.Y; y++ {
			for x := inter.Min.X; x < inter.Max.X; x++ {
				pix[y*frameR.Dx()+x] = uint8(alpha[(y-box.Min.Y)*box.Dx()+x-box.Min.X]*255 + 0.5)
			}
		}
	}
	c.last = CompositeMasks{Alpha: a, Garment: gocv.NewMatWithSize(frameR.Dy(), frameR.Dx(), gocv.MatTypeCV8UC1)}
	c.last.Garment.SetTo(gocv.Scalar{})
	if c.garmentMask(gen, warp, box) == nil {
		src := c.gbig.Region(inter.Sub(box.Min))
		copyInto(&c.last.Garment, src, inter)
		src.Close()
	}
}

// keepSegmented records the masks of a segmented composite.
func (c *Compositor) keepSegmented(frameR, inter, box image.Rectangle, torso []image.Point) {
	c.last = CompositeMasks{
		Alpha:     gocv.NewMatWithSize(frameR.Dy(), frameR.Dx(), gocv.MatTypeCV8UC1),
		Garment:   gocv.NewMatWithSize(frameR.Dy(), frameR.Dx(), gocv.MatTypeCV8UC1),
		Torso:     torso,
		Segmented: true,
	}
	c.last.Alpha.SetTo(gocv.Scalar{})
	c.last.Garment.SetTo(gocv.Scalar{})
	copyInto(&c.last.Alpha, c.alpha, inter)
	g := c.gbig.Region(inter.Sub(box.Min))
	copyInto(&c.last.Garment, g, inter)
	g.Close()
}

// copyInto copies src (the size of r) into dst at r.
func copyInto(dst *gocv.Mat, src gocv.Mat, r image.Rectangle) {
	d := dst.Region(r)
	src.CopyTo(&d)
	d.Close()
}

// blendAlpha blends src (box-sized BGR) into dst over inter with alpha
// (inter-sized 8UC1). Pixels with alpha 0 are not written.
func blendAlpha(dst *gocv.Mat, src, alpha gocv.Mat, box, inter image.Rectangle) error {
	d, err := dst.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("inference: frame data: %w", err)
	}
	s, err := src.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("inference: crop data: %w", err)
	}
	a, err := alpha.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("inference: alpha data: %w", err)
	}
	stride, sstride, w := dst.Cols()*3, box.Dx()*3, inter.Dx()
	for y := 0; y < inter.Dy(); y++ {
		fy := y + inter.Min.Y
		row := d[fy*stride+inter.Min.X*3 : fy*stride+inter.Max.X*3]
		by := fy - box.Min.Y
		bx := inter.Min.X - box.Min.X
		srow := s[by*sstride+bx*3 : by*sstride+bx*3+w*3]
		arow := a[y*w : y*w+w]
		for x, av := range arow {
			if av == 0 {
				continue
			}
			al := uint32(av)
			p := row[3*x : 3*x+3 : 3*x+3]
			q := srow[3*x : 3*x+3 : 3*x+3]
			p[0] = uint8((uint32(p[0])*(255-al) + uint32(q[0])*al + 127) / 255)
			p[1] = uint8((uint32(p[1])*(255-al) + uint32(q[1])*al + 127) / 255)
			p[2] = uint8((uint32(p[2])*(255-al) + uint32(q[2])*al + 127) / 255)
		}
	}
	return nil
}

// fillPoly fills the polygon (frame pixels) into m (whose origin is off in
// the frame) with value v.
func fillPoly(m *gocv.Mat, poly []image.Point, off image.Point, v uint8) {
	pts := make([]image.Point, len(poly))
	for i, p := range poly {
		pts[i] = clampPt(p.Sub(off))
	}
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{pts})
	defer pv.Close()
	gocv.FillPoly(m, pv, color.RGBA{v, v, v, 0})
}

// drawCapsule fills a capsule grown by grow pixels into m with value v.
func drawCapsule(m *gocv.Mat, c capsule, off image.Point, grow float64, v uint8) {
	r := int(math.Round(c.r + grow))
	a, b := clampPt(c.a.round().Sub(off)), clampPt(c.b.round().Sub(off))
	col := color.RGBA{v, v, v, 0}
	if a == b {
		gocv.Circle(m, a, r, col, -1)
		return
	}
	gocv.Line(m, a, b, col, 2*r+1)
}

// clampPt keeps coordinates in the range OpenCV's drawing accepts.
func clampPt(p image.Point) image.Point {
	const lim = 1 << 20
	return image.Pt(min(max(p.X, -lim), lim), min(max(p.Y, -lim), lim))
}

type vec2 struct{ x, y float64 }

func roundAll(ps []vec2) []image.Point {
	out := make([]image.Point, len(ps))
	for i, p := range ps {
		out[i] = p.round()
	}
	return out
}

func (a vec2) add(b vec2) vec2      { return vec2{a.x + b.x, a.y + b.y} }
func (a vec2) sub(b vec2) vec2      { return vec2{a.x - b.x, a.y - b.y} }
func (a vec2) scale(s float64) vec2 { return vec2{a.x * s, a.y * s} }
func (a vec2) len() float64         { return math.Hypot(a.x, a.y) }
func (a vec2) round() image.Point   { return image.Pt(int(math.Round(a.x)), int(math.Round(a.y))) }

// bodyFromPerson fills b from a tracked person on a w x h frame, borrowing
// its mask (b must not be closed). Shoulders are trusted as the framing
// rule trusts them; hips count only under the framing rule's condition
// (both visible, their midpoint inside the frame), so that the torso is
// extrapolated from the shoulders exactly when the crop is; arms count by
// how visible and how surely inside the frame they are. It reports false
// when p has no mask of the frame's size.
func bodyFromPerson(b *Body, p *person.Person, w, h int) bool {
	if p.Mask.Ptr() == nil || p.Mask.Empty() || p.Mask.Cols() != w || p.Mask.Rows() != h {
		return false
	}
	kp := func(i int, score float64) Keypoint {
		return Keypoint{X: p.Keypoints[i].X, Y: p.Keypoints[i].Y, Score: score}
	}
	seen := func(i int) Keypoint {
		k := p.Keypoints[i]
		return kp(i, min(k.Visibility, k.Presence))
	}
	hand := func(ids ...int) Keypoint {
		var k Keypoint
		k.Score = 1
		for _, i := range ids {
			q := p.Keypoints[i]
			k.X += q.X / float64(len(ids))
			k.Y += q.Y / float64(len(ids))
			k.Score = min(k.Score, q.Visibility, q.Presence)
		}
		return k
	}
	lh, rh := p.Keypoints[person.LeftHip], p.Keypoints[person.RightHip]
	hx, hy := (lh.X+rh.X)/2, (lh.Y+rh.Y)/2
	hip := 0.0
	if min(lh.Visibility, rh.Visibility) >= person.FrameHipVisibility &&
		hx >= 0 && hx <= float64(w) && hy >= 0 && hy <= float64(h) {
		hip = 1
	}
	*b = Body{
		Mask:          p.Mask,
		Nose:          seen(person.Nose),
		LeftEar:       seen(person.LeftEar),
		RightEar:      seen(person.RightEar),
		LeftShoulder:  kp(person.LeftShoulder, 1),
		RightShoulder: kp(person.RightShoulder, 1),
		LeftElbow:     seen(person.LeftElbow),
		RightElbow:    seen(person.RightElbow),
		LeftWrist:     seen(person.LeftWrist),
		RightWrist:    seen(person.RightWrist),
		LeftHand:      hand(person.LeftPinky, person.LeftIndex, person.LeftThumb),
		RightHand:     hand(person.RightPinky, person.RightIndex, person.RightThumb),
		LeftHip:       kp(person.LeftHip, hip),
		RightHip:      kp(person.RightHip, hip),
	}
	return true
}
