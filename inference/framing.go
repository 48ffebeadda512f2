package inference

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"

	"gocv.io/x/gocv"
)

// CascadeEnv names a Haar cascade file to use instead of the default.
const CascadeEnv = "MGVTON_FACE_CASCADE"

// cascadePaths are where Debian's opencv-data installs the frontal-face cascade.
var cascadePaths = []string{
	"/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml",
	"/usr/share/opencv/haarcascades/haarcascade_frontalface_default.xml",
}

// ErrNoCascade means no face cascade file was found.
var ErrNoCascade = errors.New("inference: face cascade not found (install opencv-data or set " + CascadeEnv + ")")

// FramingOptions shape the 3:4 upper-body box around a detected face. The
// defaults match the proportions of our synthetic VITON-HD-style crops,
// measured with the same cascade: the crop is about 6.4 face heights tall
// and the face's top sits about 0.57 face heights below the crop's top.
// The box may extend past the frame's edges (a person near the top of a
// webcam picture): the crop is then padded by replicating the edge pixels,
// so the person keeps the scale and position the model was trained on.
type FramingOptions struct {
	// BoxHeightFaces is the crop height in face heights.
	BoxHeightFaces float64
	// TopFaces is the space above the face's top edge, in face heights.
	TopFaces float64
	// Smoothing is the weight of the new box in the running average (0..1];
	// 1 means no smoothing.
	Smoothing float64
	// HoldFrames is how many frames without a face keep the last box.
	HoldFrames int
	// DetectWidth is the width the frame is shrunk to for detection.
	DetectWidth int
	// FullEvery: while a face is tracked, the detector only searches a
	// window around it (a few milliseconds instead of tens), and searches
	// the whole frame on every FullEvery-th frame and after any miss.
	// 0 searches the whole frame every time.
	FullEvery int
}

// DefaultFraming returns the framing used by the app.
func DefaultFraming() FramingOptions {
	return FramingOptions{BoxHeightFaces: 6.4, TopFaces: 0.57, Smoothing: 0.35, HoldFrames: 15, DetectWidth: 320,
		FullEvery: 10}
}

// Framer finds the person in a frame and keeps a smoothed 3:4 crop box.
// It is used by one goroutine at a time.
type Framer struct {
	opts    FramingOptions
	cascade gocv.CascadeClassifier
	small   gocv.Mat
	gray    gocv.Mat

	box       rectF // smoothed box, in frame pixels
	hasBox    bool
	missed    int
	sinceFull int // frames since the last whole-frame search
	closed    bool
}

type rectF struct{ x, y, w, h float64 }

// NewFramer loads the face cascade (cascadePath, else $MGVTON_FACE_CASCADE,
// else Debian's opencv-data file).
func NewFramer(cascadePath string, opts FramingOptions) (*Framer, error) {
	if cascadePath == "" {
		cascadePath = os.Getenv(CascadeEnv)
	}
	if cascadePath == "" {
		for _, p := range cascadePaths {
			if _, err := os.Stat(p); err == nil {
				cascadePath = p
				break
			}
		}
	}
	if cascadePath == "" {
		return nil, ErrNoCascade
	}
	// OpenCV aborts the process on a file that is not a cascade: look first.
	if err := looksLikeCascade(cascadePath); err != nil {
		return nil, err
	}
	f := &Framer{opts: opts, cascade: gocv.NewCascadeClassifier(), small: gocv.NewMat(), gray: gocv.NewMat()}
	if !f.cascade.Load(cascadePath) {
		f.Close()
		return nil, fmt.Errorf("inference: load face cascade %s: not a cascade file", cascadePath)
	}
	return f, nil
}

// looksLikeCascade checks that path is an OpenCV XML storage file.
func looksLikeCascade(path string) error {
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("inference: face cascade: %w", err)
	}
	defer file.Close()
	head := make([]byte, 16<<10)
	n, _ := io.ReadFull(file, head)
	if !bytes.Contains(head[:n], []byte("<opencv_storage>")) {
		return fmt.Errorf("inference: load face cascade %s: not an OpenCV cascade file", path)
	}
	return nil
}

// Close releases the detector. It is idempotent.
func (f *Framer) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	f.cascade.Close()
	f.small.Close()
	f.gray.Close()
	return nil
}

// Reset forgets the smoothed box (a new stream starts).
func (f *Framer) Reset() { f.hasBox, f.missed, f.sinceFull = false, 0, 0 }

// Box detects the person in frame (BGR) and returns the smoothed 3:4 crop
// box in frame pixels, or ok=false when nobody has been seen for more than
// HoldFrames frames.
func (f *Framer) Box(frame gocv.Mat) (box image.Rectangle, ok bool) {
	var faces []rectF
	if f.hasBox && f.missed == 0 && f.sinceFull+1 < f.opts.FullEvery {
		faces = f.detectNear(frame, faceForBox(f.box, f.opts))
		f.sinceFull++
	} else {
		faces = f.detect(frame)
		f.sinceFull = 0
	}
	face, found := f.pick(faces)
	return f.update(face, found, frame.Cols(), frame.Rows())
}

// pick chooses the face to follow among the detections. Without a track it
// takes the largest. With one it takes the detection nearest the tracked
// face, and only if it is close (its centre within one face height) and of
// a similar size (within 1.6x): the Haar cascade fires now and then on an
// elbow or a picture on the wall, and following such a hit for a frame threw
// the garment across the picture. A rejected frame counts as a miss, so a
// person who really moved is found again after HoldFrames.
func (f *Framer) pick(faces []rectF) (rectF, bool) {
	if len(faces) == 0 {
		return rectF{}, false
	}
	if !f.hasBox {
		best := 0
		for i, r := range faces {
			if r.w*r.h > faces[best].w*faces[best].h {
				best = i
			}
		}
		return faces[best], true
	}
	track := faceForBox(f.box, f.opts)
	best, bestD := -1, math.Inf(1)
	for i, r := range faces {
		d := math.Hypot(r.x+r.w/2-(track.x+track.w/2), r.y+r.h/2-(track.y+track.h/2))
		ratio := r.h / track.h
		if d <= track.h && ratio >= 1/1.6 && ratio <= 1.6 && d < bestD {
			best, bestD = i, d
		}
	}
	if best < 0 {
		return rectF{}, false
	}
	return faces[best], true
}

// update folds one detection (or a miss) into the smoothed box.
func (f *Framer) update(face rectF, found bool, fw, fh int) (image.Rectangle, bool) {
	if found {
		target := boxForFace(face, f.opts)
		if !f.hasBox {
			f.box = target
		} else {
			a := f.opts.Smoothing
			f.box = rectF{
				f.box.x + a*(target.x-f.box.x), f.box.y + a*(target.y-f.box.y),
				f.box.w + a*(target.w-f.box.w), f.box.h + a*(target.h-f.box.h),
			}
		}
		f.hasBox, f.missed = true, 0
	} else if f.hasBox {
		f.missed++
		if f.missed > f.opts.HoldFrames {
			f.hasBox = false
		}
	}
	if !f.hasBox {
		return image.Rectangle{}, false
	}
	return f.box.round(), true
}

// detect returns the faces in the whole frame, in frame pixels.
func (f *Framer) detect(frame gocv.Mat) []rectF {
	scale := 1.0
	if w := f.opts.DetectWidth; w > 0 && frame.Cols() > w {
		scale = float64(frame.Cols()) / float64(w)
	}
	minSide := int(float64(frame.Rows()) / scale / 12)
	return f.search(frame, scale, minSide, 0)
}

// trackFace is the face height, in pixels of the searched picture, that a
// tracking window is scaled to: twice the cascade's 24-pixel window.
const trackFace = 48.0

// detectNear searches only a window around the tracked face (1.5 face
// heights on each side, as far as pick accepts a detection), shrunk so the
// face is about trackFace pixels tall, for faces of the sizes pick accepts.
func (f *Framer) detectNear(frame gocv.Mat, face rectF) []rectF {
	m := 1.5 * face.h
	win := image.Rect(int(face.x-m), int(face.y-m), int(math.Ceil(face.x+face.w+m)), int(math.Ceil(face.y+face.h+m))).
		Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	scale := max(face.h/trackFace, 1)
	if float64(win.Dx())/scale < 2*trackFace || float64(win.Dy())/scale < 2*trackFace {
		return f.detect(frame) // the face is at the frame's edge: no room for a window
	}
	roi := frame.Region(win)
	defer roi.Close()
	faces := f.search(roi, scale, int(trackFace/1.6), int(math.Ceil(trackFace*1.6)))
	for i := range faces {
		faces[i].x += float64(win.Min.X)
		faces[i].y += float64(win.Min.Y)
	}
	return faces
}

// search runs the cascade on src shrunk by scale (>= 1) and returns the
// faces between minSide and maxSide (0: no limit) shrunk pixels tall, in
// src pixels.
func (f *Framer) search(src gocv.Mat, scale float64, minSide, maxSide int) []rectF {
	img := src
	if scale > 1 {
		size := image.Pt(int(math.Round(float64(src.Cols())/scale)), int(math.Round(float64(src.Rows())/scale)))
		gocv.Resize(src, &f.small, size, 0, 0, gocv.InterpolationArea)
		img = f.small
	}
	gocv.CvtColor(img, &f.gray, gocv.ColorBGRToGray)
	gocv.EqualizeHist(f.gray, &f.gray)
	found := f.cascade.DetectMultiScaleWithParams(f.gray, 1.15, 4, 0, image.Pt(minSide, minSide),
		image.Pt(maxSide, maxSide))
	out := make([]rectF, len(found))
	for i, r := range found {
		out[i] = rectF{float64(r.Min.X) * scale, float64(r.Min.Y) * scale, float64(r.Dx()) * scale, float64(r.Dy()) * scale}
	}
	return out
}

// boxForFace returns the 3:4 upper-body box for a face. It is not clipped
// to the frame (see FramingOptions).
func boxForFace(face rectF, o FramingOptions) rectF {
	h := face.h * o.BoxHeightFaces
	w := h * 3 / 4
	cx := face.x + face.w/2
	return rectF{cx - w/2, face.y - face.h*o.TopFaces, w, h}
}

// faceForBox inverts boxForFace: the face a (smoothed) box stands for.
func faceForBox(b rectF, o FramingOptions) rectF {
	h := b.h / o.BoxHeightFaces
	return rectF{b.x + b.w/2 - h/2, b.y + h*o.TopFaces, h, h}
}

// round converts to integer pixels, keeping 3:4.
func (r rectF) round() image.Rectangle {
	h := int(math.Round(r.h))
	w := int(math.Round(float64(h) * 3 / 4))
	x := int(math.Round(r.x))
	y := int(math.Round(r.y))
	return image.Rect(x, y, x+w, y+h)
}

// feather is a cached alpha ramp for pasting a crop back with soft edges.
type feather struct {
	w, h  int
	alpha []float32
}

// featherFor returns alpha weights (1 inside, ramping to 0 over border
// pixels at the edges) for a w x h box.
func (c *feather) get(w, h int) []float32 {
	if c.w == w && c.h == h {
		return c.alpha
	}
	border := max(2, min(w, h)/12)
	ramp := func(i, n int) float32 {
		d := min(i, n-1-i)
		if d >= border {
			return 1
		}
		t := float32(d+1) / float32(border+1)
		return t * t * (3 - 2*t) // smoothstep
	}
	c.w, c.h = w, h
	c.alpha = make([]float32, w*h)
	for y := 0; y < h; y++ {
		ay := ramp(y, h)
		for x := 0; x < w; x++ {
			c.alpha[y*w+x] = min(ay, ramp(x, w))
		}
	}
	return c.alpha
}

// pasteBack blends src (BGR 8UC3, the size of box) into frame at box with
// the feathered alpha; the parts of box outside the frame are skipped.
func pasteBack(frame *gocv.Mat, src gocv.Mat, box image.Rectangle, f *feather) error {
	w, h := box.Dx(), box.Dy()
	if src.Cols() != w || src.Rows() != h || src.Type() != gocv.MatTypeCV8UC3 || frame.Type() != gocv.MatTypeCV8UC3 {
		return fmt.Errorf("inference: paste %dx%d into box %v: size or type mismatch", src.Cols(), src.Rows(), box)
	}
	inter := box.Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	if inter.Empty() {
		return fmt.Errorf("inference: paste box %v outside frame %dx%d", box, frame.Cols(), frame.Rows())
	}
	alpha := f.get(w, h)
	dst, err := frame.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("inference: frame data: %w", err)
	}
	s, err := src.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("inference: crop data: %w", err)
	}
	stride := frame.Cols() * 3
	for y := inter.Min.Y; y < inter.Max.Y; y++ {
		by := y - box.Min.Y
		row := dst[y*stride:]
		srow := s[by*w*3:]
		arow := alpha[by*w:]
		for x := inter.Min.X; x < inter.Max.X; x++ {
			bx := x - box.Min.X
			a := arow[bx]
			for c := 0; c < 3; c++ {
				d, v := x*3+c, bx*3+c
				row[d] = uint8(float32(row[d])*(1-a) + float32(srow[v])*a + 0.5)
			}
		}
	}
	return nil
}
