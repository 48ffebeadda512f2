package garments

import (
	"image"
	"image/color"
	"math"
	"math/rand"
	"testing"

	"gocv.io/x/gocv"
)

// synthSpec describes a synthetic shop photo: a flat garment of a known
// shape and texture on a near-white background with noise, a slight
// lighting gradient and a soft drop shadow, saved as a JPEG and decoded
// again, as shop photos are.
type synthSpec struct {
	name    string
	shape   string // "t-shirt", "long-sleeve" or "tank-top"
	texture string // "stripes", "checks", "dots", "text", "panel" or "plain"
	base    color.RGBA
	alt     color.RGBA // second colour of the texture
	bg      color.RGBA // background; near-white when zero
	w, h    int
	shadow  float64 // darkening at the shadow's core, 0..1
	seed    int64
}

// unit-square outlines of the garments, flat and seen from the front.
var shapes = map[string][][2]float64{
	"t-shirt": {
		{0.38, 0.12}, {0.44, 0.17}, {0.5, 0.185}, {0.56, 0.17}, {0.62, 0.12},
		{0.78, 0.17}, {0.93, 0.36}, {0.82, 0.43}, {0.75, 0.36},
		{0.76, 0.88}, {0.24, 0.88},
		{0.25, 0.36}, {0.18, 0.43}, {0.07, 0.36}, {0.22, 0.17},
	},
	"long-sleeve": {
		{0.39, 0.10}, {0.45, 0.15}, {0.5, 0.165}, {0.55, 0.15}, {0.61, 0.10},
		{0.77, 0.15}, {0.96, 0.80}, {0.87, 0.83}, {0.75, 0.42},
		{0.75, 0.90}, {0.25, 0.90},
		{0.25, 0.42}, {0.13, 0.83}, {0.04, 0.80}, {0.23, 0.15},
	},
	"tank-top": {
		{0.35, 0.09}, {0.42, 0.09}, {0.45, 0.22}, {0.5, 0.26}, {0.55, 0.22}, {0.58, 0.09}, {0.65, 0.09},
		{0.67, 0.27}, {0.73, 0.38}, {0.74, 0.90}, {0.26, 0.90}, {0.27, 0.38}, {0.33, 0.27},
	},
}

// synthGarment renders s and returns the photo (8-bit BGR) and the true
// garment mask (0/255); the caller closes both.
func synthGarment(tb testing.TB, s synthSpec) (img, truth gocv.Mat) {
	tb.Helper()
	w, h := s.w, s.h
	outline, ok := shapes[s.shape]
	if !ok {
		tb.Fatalf("unknown shape %q", s.shape)
	}
	pts := make([]image.Point, len(outline))
	for i, p := range outline {
		pts[i] = image.Pt(int(p[0]*float64(w)), int(p[1]*float64(h)))
	}
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{pts})
	defer pv.Close()

	// Antialiased coverage of the garment, 0..255.
	alpha := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC1)
	defer alpha.Close()
	alpha.SetTo(gocv.NewScalar(0, 0, 0, 0))
	gocv.FillPolyWithParams(&alpha, pv, color.RGBA{255, 255, 255, 255}, gocv.LineAA, 0, image.Point{})
	truth = gocv.NewMat()
	gocv.Threshold(alpha, &truth, 127, 255, gocv.ThresholdBinary)

	// Shadow: the silhouette moved down-right and blurred.
	shadow := gocv.NewMat()
	defer shadow.Close()
	shift := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC1)
	defer shift.Close()
	shift.SetTo(gocv.NewScalar(0, 0, 0, 0))
	dx, dy := w/60, h/55
	src := alpha.Region(image.Rect(0, 0, w-dx, h-dy))
	dst := shift.Region(image.Rect(dx, dy, w, h))
	src.CopyTo(&dst)
	src.Close()
	dst.Close()
	sigma := float64(w) / 45
	gocv.GaussianBlur(shift, &shadow, image.Pt(0, 0), sigma, sigma, gocv.BorderConstant)

	tex := texture(tb, s)
	defer tex.Close()

	bg := s.bg
	if bg == (color.RGBA{}) {
		bg = color.RGBA{R: 243, G: 244, B: 246}
	}
	rng := rand.New(rand.NewSource(s.seed))
	out := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	ap, _ := alpha.DataPtrUint8()
	sp, _ := shadow.DataPtrUint8()
	tp, _ := tex.DataPtrUint8()
	op, _ := out.DataPtrUint8()
	bgc := [3]float64{float64(bg.B), float64(bg.G), float64(bg.R)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			// Lighting: a little darker towards the corners and the bottom.
			fx, fy := float64(x)/float64(w)-0.5, float64(y)/float64(h)-0.45
			light := 1 - 0.06*(fx*fx+fy*fy) - 0.015*fy
			// Garment shading: gentle folds.
			fold := 1 - 0.05*math.Max(0, math.Sin(float64(x)/float64(w)*9+float64(y)/float64(h)*4))
			a := float64(ap[i]) / 255
			sh := 1 - s.shadow*float64(sp[i])/255
			n := rng.NormFloat64() * 2
			for c := 0; c < 3; c++ {
				b := bgc[c] * light * sh
				g := float64(tp[3*i+c]) * light * fold
				v := b*(1-a) + g*a + n
				op[3*i+c] = uint8(math.Max(0, math.Min(255, math.Round(v))))
			}
		}
	}
	// Shop photos are JPEGs.
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, out, []int{gocv.IMWriteJpegQuality, 92})
	out.Close()
	if err != nil {
		tb.Fatalf("encode jpeg: %v", err)
	}
	defer buf.Close()
	img, err = gocv.IMDecode(buf.GetBytes(), gocv.IMReadColor)
	if err != nil || img.Empty() {
		tb.Fatalf("decode jpeg: %v", err)
	}
	return img, truth
}

// texture renders the garment's fabric over the whole canvas.
func texture(tb testing.TB, s synthSpec) gocv.Mat {
	w, h := s.w, s.h
	t := gocv.NewMatWithSizeFromScalar(scalar(s.base), h, w, gocv.MatTypeCV8UC3)
	alt := s.alt
	switch s.texture {
	case "plain":
	case "stripes":
		p := h / 16
		for y := 0; y < h; y += p {
			gocv.Rectangle(&t, image.Rect(0, y, w, y+p/2), alt, -1)
		}
	case "checks":
		p := w / 14
		for y := 0; y < h; y += p {
			for x := (y / p % 2) * p; x < w; x += 2 * p {
				gocv.Rectangle(&t, image.Rect(x, y, x+p, y+p), alt, -1)
			}
		}
		thin := color.RGBA{R: 250, G: 250, B: 248}
		for x := p / 2; x < w; x += p {
			gocv.Line(&t, image.Pt(x, 0), image.Pt(x, h), thin, max(1, w/300))
		}
	case "dots":
		p := w / 12
		for y := p / 2; y < h; y += p {
			for x := p/2 + (y/p%2)*p/2; x < w; x += p {
				gocv.CircleWithParams(&t, image.Pt(x, y), p/4, alt, -1, gocv.LineAA, 0)
			}
		}
	case "text":
		for y := h / 8; y < h; y += h / 7 {
			gocv.PutTextWithParams(&t, "MGVTON try on", image.Pt(w/10, y), gocv.FontHersheyDuplex,
				float64(w)/420, alt, max(1, w/200), gocv.LineAA, false)
		}
	case "panel":
		// A white-ish chest panel with a print on it, inside the garment.
		gocv.Rectangle(&t, image.Rect(w*33/100, h*28/100, w*67/100, h*62/100), alt, -1)
		gocv.PutTextWithParams(&t, "42", image.Pt(w*40/100, h*52/100), gocv.FontHersheyDuplex,
			float64(w)/160, s.base, max(2, w/100), gocv.LineAA, false)
	default:
		tb.Fatalf("unknown texture %q", s.texture)
	}
	return t
}

func scalar(c color.RGBA) gocv.Scalar {
	return gocv.NewScalar(float64(c.B), float64(c.G), float64(c.R), 0)
}

// synthCases are the garments the automatic mask is measured on.
var synthCases = []synthSpec{
	{name: "navy-white-stripes-tee", shape: "t-shirt", texture: "stripes",
		base: color.RGBA{R: 25, G: 35, B: 80}, alt: color.RGBA{R: 247, G: 247, B: 245}},
	{name: "red-checks-long-sleeve", shape: "long-sleeve", texture: "checks",
		base: color.RGBA{R: 190, G: 30, B: 40}, alt: color.RGBA{R: 90, G: 10, B: 20}},
	{name: "green-dots-tank", shape: "tank-top", texture: "dots",
		base: color.RGBA{R: 40, G: 120, B: 70}, alt: color.RGBA{R: 240, G: 240, B: 235}},
	{name: "black-text-tee", shape: "t-shirt", texture: "text",
		base: color.RGBA{R: 20, G: 20, B: 22}, alt: color.RGBA{R: 230, G: 200, B: 40}},
	{name: "white-panel-tee", shape: "t-shirt", texture: "panel",
		base: color.RGBA{R: 200, G: 90, B: 30}, alt: color.RGBA{R: 248, G: 248, B: 246}},
	{name: "cream-tee-near-background", shape: "t-shirt", texture: "plain",
		base: color.RGBA{R: 236, G: 226, B: 205}},
	{name: "pale-grey-long-sleeve", shape: "long-sleeve", texture: "plain",
		base: color.RGBA{R: 214, G: 216, B: 220}},
	{name: "light-blue-stripes-tank", shape: "tank-top", texture: "stripes",
		base: color.RGBA{R: 170, G: 200, B: 235}, alt: color.RGBA{R: 246, G: 246, B: 246}},
}

func init() {
	for i := range synthCases {
		c := &synthCases[i]
		if c.w == 0 {
			c.w, c.h = 600, 800
		}
		if c.shadow == 0 {
			c.shadow = 0.12
		}
		c.seed = int64(i + 1)
	}
}
