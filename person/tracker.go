package person

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"time"

	"gocv.io/x/gocv"

	"mgvton/internal/bundle"
	"mgvton/internal/ortenv"
)

// ModelDirEnv names a person-model folder to use instead of the default.
const ModelDirEnv = "MGVTON_PERSON_MODELS"

// Segmentation says where the person mask comes from.
type Segmentation int

const (
	// SegLandmark uses the landmark model's own segmentation output (free:
	// the graph computes it anyway), brought back from the region of
	// interest. The default: measured against SegSelfie on real photos it
	// covers only the tracked person (the selfie model also takes other
	// people, a ball and grass), still works on small full-body people
	// (where the selfie model, made for people near the camera, lost the
	// person: IoU 0.04 between the two), agrees with it on webcam
	// close-ups (IoU 0.84-0.98), and costs nothing extra (the selfie graph
	// costs ~7 ms a frame).
	SegLandmark Segmentation = iota
	// SegSelfie runs the selfie-segmentation graph on the whole frame
	// (stretched to its square input).
	SegSelfie
	// SegOff makes no mask.
	SegOff
)

// Options configure a Tracker.
type Options struct {
	// Dir is the person-model folder; empty means DefaultModelDir().
	Dir string
	// LibraryPath is the ONNX Runtime library; empty means the shared default.
	LibraryPath string
	// Lite picks the lite landmark model instead of the full one (about
	// 15 against 22 ms a frame on one core; measured on real photos it
	// frames and masks the person about as well: docs/performance.md).
	Lite bool
	// Segmentation picks the mask source.
	Segmentation Segmentation
	// Threads is the intra-op thread count of each graph (0: 1 thread,
	// which measured fastest for these small graphs).
	Threads int
	// MinPresence is the landmark model's person-presence probability below
	// which the person counts as lost (MediaPipe: 0.5).
	MinPresence float64
	// NoSmoothing turns the One-Euro filter off (tests, still images).
	NoSmoothing bool
	// Recheck is how many tracked frames pass between detector runs that
	// check the tracked person is still there (0: 30; < 0: never). The
	// landmark model's presence flag follows a person who walks out, but
	// after a cut to a scene without anyone it kept reporting a person
	// (0.91 on a photo of fruit, in the region left by a portrait); the
	// detector does not.
	Recheck int
}

// File names inside the person-model folder.
const (
	DetectorFile     = "pose_detection.onnx"
	LandmarkFullFile = "pose_landmark_full.onnx"
	LandmarkLiteFile = "pose_landmark_lite.onnx"
	SelfieFile       = "selfie_segmentation.onnx"
)

// DefaultModelDir returns $MGVTON_PERSON_MODELS, else models/person beside
// the executable, in its parent or in the working directory, whichever holds
// the detector first ("models/person" if none does).
func DefaultModelDir() string {
	if d := os.Getenv(ModelDirEnv); d != "" {
		return d
	}
	for _, dir := range bundle.Dirs() {
		p := filepath.Join(dir, "models", "person")
		if _, err := os.Stat(filepath.Join(p, DetectorFile)); err == nil {
			return p
		}
	}
	return filepath.Join("models", "person")
}

// Landmark model names, as LandmarkModel reports them (and the cli's -pose
// flag takes them).
const (
	LandmarkLite = "lite"
	LandmarkFull = "full"
)

// LandmarkModel says which landmark model the tracker runs: LandmarkLite or
// LandmarkFull.
func (t *Tracker) LandmarkModel() string {
	if t.opts.Lite {
		return LandmarkLite
	}
	return LandmarkFull
}

// Timings are the last Track call's costs.
type Timings struct {
	Detector, Landmark, Selfie, Total time.Duration
}

// Tracker follows one person through a stream of frames. It is used by one
// goroutine at a time.
type Tracker struct {
	opts    Options
	det     *graph
	lm      *graph
	selfie  *graph
	anchors []anchor

	track    *roi // region for the next frame, from this frame's landmarks
	tracked  int  // frames tracked since the detector last ran
	filters  [NumKeypoints][3]oneEuro
	aux      [2][2]oneEuro // alignment landmarks 33 and 34
	t0       time.Time
	last     Timings
	crop     gocv.Mat // uint8 RGB crop fed to a graph
	cropF    gocv.Mat // the same as float
	rgb      gocv.Mat
	logits   gocv.Mat
	mask8    gocv.Mat
	prevMask gocv.Mat // the last frame's mask, for smoothing
	// lmBorder fills the landmark crop where the region leaves the frame:
	// edge pixels replicated, as MediaPipe's ImageToTensorCalculator does by
	// default (on a webcam close-up this kept presence at 1.00 and the
	// shoulders within 5-16 px of where the uncropped frame put them; black
	// gave 0.95 and 8-22 px). The reference test uses black, as
	// scripts/person_models/reference.py does.
	lmBorder gocv.BorderType
	closed   bool
}

// ErrNoModels means the person-model folder lacks a graph.
var ErrNoModels = errors.New("person models not found (set " + ModelDirEnv + " or keep models/person beside the program)")

// New loads the person models.
func New(opts Options) (*Tracker, error) {
	if opts.Dir == "" {
		opts.Dir = DefaultModelDir()
	}
	if opts.MinPresence == 0 {
		opts.MinPresence = 0.5
	}
	if opts.Threads == 0 {
		opts.Threads = 1
	}
	if opts.Recheck == 0 {
		opts.Recheck = 30
	}
	if err := ortenv.Init(opts.LibraryPath); err != nil {
		return nil, fmt.Errorf("person: %w", err)
	}
	if _, err := os.Stat(filepath.Join(opts.Dir, DetectorFile)); err != nil {
		return nil, fmt.Errorf("person: %s: %w", filepath.Join(opts.Dir, DetectorFile), ErrNoModels)
	}
	t := &Tracker{opts: opts, anchors: ssdAnchors(poseAnchorOptions()), t0: time.Now(),
		crop: gocv.NewMat(), cropF: gocv.NewMat(), rgb: gocv.NewMat(), logits: gocv.NewMat(), mask8: gocv.NewMat(),
		prevMask: gocv.NewMat(), lmBorder: gocv.BorderReplicate}
	var err error
	n := int64(len(t.anchors))
	t.det, err = loadGraph(filepath.Join(opts.Dir, DetectorFile), 224, []outputRole{
		{"box regressors", func(d []int64) bool { return len(d) == 3 && d[1] == n && d[2] == 12 }},
		{"scores", func(d []int64) bool { return len(d) == 3 && d[1] == n && d[2] == 1 }},
	}, opts.Threads)
	if err != nil {
		t.Close()
		return nil, err
	}
	lmFile := LandmarkFullFile
	if opts.Lite {
		lmFile = LandmarkLiteFile
	}
	t.lm, err = loadGraph(filepath.Join(opts.Dir, lmFile), 256, []outputRole{
		{"landmarks (195 values)", func(d []int64) bool { return elems(d) == 195 }},
		{"pose presence flag", func(d []int64) bool { return elems(d) == 1 }},
		{"segmentation map", func(d []int64) bool { return elems(d) == 256*256 }},
	}, opts.Threads)
	if err != nil {
		t.Close()
		return nil, err
	}
	if opts.Segmentation == SegSelfie {
		t.selfie, err = loadGraph(filepath.Join(opts.Dir, SelfieFile), 256, []outputRole{
			{"mask", func(d []int64) bool { return elems(d) == 256*256 }},
		}, opts.Threads)
		if err != nil {
			t.Close()
			return nil, err
		}
	}
	t.Reset()
	return t, nil
}

// Close releases the graphs. It is idempotent and safe on a half-built
// tracker.
func (t *Tracker) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	t.det.destroy()
	t.lm.destroy()
	t.selfie.destroy()
	for _, m := range []*gocv.Mat{&t.crop, &t.cropF, &t.rgb, &t.logits, &t.mask8, &t.prevMask} {
		m.Close()
	}
	return nil
}

// Reset forgets the tracked person (a new stream starts).
func (t *Tracker) Reset() {
	t.track, t.tracked = nil, 0
	for i := range t.filters {
		for k := range t.filters[i] {
			t.filters[i][k] = oneEuro{minCutoff: 0.05, beta: 80, dCutoff: 1}
		}
	}
	for i := range t.aux {
		for k := range t.aux[i] {
			t.aux[i][k] = oneEuro{minCutoff: 0.01, beta: 10, dCutoff: 1}
		}
	}
	if t.prevMask.Ptr() != nil && !t.prevMask.Empty() {
		t.prevMask.Close()
		t.prevMask = gocv.NewMat()
	}
}

// Timings returns the costs of the last Track call.
func (t *Tracker) Timings() Timings { return t.last }

// Track finds the person in frame (BGR 8UC3, which stays the caller's) at
// the current time. ok is false when nobody is there.
func (t *Tracker) Track(frame gocv.Mat) (Person, bool, error) {
	return t.TrackAt(frame, time.Since(t.t0))
}

// TrackAt is Track with an explicit stream time (a video file's frame
// time), which drives the One-Euro filter.
func (t *Tracker) TrackAt(frame gocv.Mat, ts time.Duration) (p Person, ok bool, err error) {
	if t.closed {
		return Person{}, false, errors.New("person: tracker closed")
	}
	if frame.Empty() || frame.Type() != gocv.MatTypeCV8UC3 {
		return Person{}, false, errors.New("person: track: want a BGR 8UC3 frame")
	}
	start := time.Now()
	t.last = Timings{}
	defer func() { t.last.Total = time.Since(start) }()
	gocv.CvtColor(frame, &t.rgb, gocv.ColorBGRToRGB)
	w, h := frame.Cols(), frame.Rows()

	detected := false
	if t.track != nil && t.opts.Recheck > 0 && t.tracked >= t.opts.Recheck {
		if err := t.recheck(w, h); err != nil {
			return Person{}, false, err
		}
		if t.track == nil {
			return Person{}, false, nil
		}
	}
	if t.track == nil {
		r, found, err := t.detect(w, h)
		if err != nil || !found {
			return Person{}, false, err
		}
		t.track, detected = &r, true
	}
	t.tracked++
	lm, score, err := t.landmarks(*t.track)
	if err != nil {
		return Person{}, false, err
	}
	if score < t.opts.MinPresence && !detected {
		// Lost while tracking: look for the person afresh in this frame.
		t.Reset()
		r, found, err := t.detect(w, h)
		if err != nil || !found {
			return Person{}, false, err
		}
		t.track, detected = &r, true
		if lm, score, err = t.landmarks(r); err != nil {
			return Person{}, false, err
		}
	}
	if score < t.opts.MinPresence {
		t.Reset()
		return Person{}, false, nil
	}
	region := *t.track
	p = Person{Score: score, ROI: region.bounds(), Detected: detected}
	if detected {
		t.Reset()
	}
	secs := ts.Seconds()
	// The next frame's region, from the (smoothed) alignment landmarks.
	ax, ay := lm[33].X, lm[33].Y
	bx, by := lm[34].X, lm[34].Y
	if !t.opts.NoSmoothing {
		s := 1 / max(region.Size, 1)
		ax, ay = t.aux[0][0].filter(ax, s, secs), t.aux[0][1].filter(ay, s, secs)
		bx, by = t.aux[1][0].filter(bx, s, secs), t.aux[1][1].filter(by, s, secs)
	}
	next := roiFromPoints(ax, ay, bx, by)
	t.track = &next
	t.smooth(lm[:NumKeypoints], secs, &p)

	switch t.opts.Segmentation {
	case SegLandmark:
		p.Mask = t.landmarkMask(region, w, h)
	case SegSelfie:
		if p.Mask, err = t.selfieMask(w, h); err != nil {
			return Person{}, false, err
		}
	}
	if t.opts.Segmentation != SegOff && !t.opts.NoSmoothing {
		if !detected {
			smoothMask(p.Mask, t.prevMask)
		}
		p.Mask.CopyTo(&t.prevMask)
	}
	return p, true, nil
}

// smooth fills p.Keypoints from raw landmarks, positions One-Euro filtered
// in units of the person's size (MediaPipe's pose settings: min cutoff
// 0.05 Hz, beta 80, derivative cutoff 1 Hz).
func (t *Tracker) smooth(raw []Keypoint, secs float64, p *Person) {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, k := range raw {
		x0, y0, x1, y1 = min(x0, k.X), min(y0, k.Y), max(x1, k.X), max(y1, k.Y)
	}
	scale := 1 / max((x1-x0+y1-y0)/2, 1)
	for i, k := range raw {
		if !t.opts.NoSmoothing {
			k.X = t.filters[i][0].filter(k.X, scale, secs)
			k.Y = t.filters[i][1].filter(k.Y, scale, secs)
			k.Z = t.filters[i][2].filter(k.Z, scale, secs)
		}
		p.Keypoints[i] = k
	}
}

// recheck runs the detector while tracking: nobody found drops the track;
// a person near the tracked region keeps it; only people elsewhere switch
// to the best of them.
func (t *Tracker) recheck(w, h int) error {
	t.tracked = 0
	dets, lb, err := t.detections(w, h)
	if err != nil {
		return err
	}
	if len(dets) == 0 {
		t.Reset()
		return nil
	}
	cur := *t.track
	for _, d := range dets {
		x, y := lb.toFrame(d.KP[0][0], d.KP[0][1])
		if math.Hypot(x-cur.CX, y-cur.CY) < cur.Size/2 {
			return nil // the tracked person is still there
		}
	}
	t.Reset()
	r := t.pick(dets, lb, w)
	t.track = &r
	return nil
}

// detect runs the pose detector on the letterboxed frame (t.rgb) and
// returns the region around the chosen person.
func (t *Tracker) detect(w, h int) (roi, bool, error) {
	dets, lb, err := t.detections(w, h)
	if err != nil || len(dets) == 0 {
		return roi{}, false, err
	}
	return t.pick(dets, lb, w), true, nil
}

// detections runs the detector on the letterboxed frame (t.rgb): the
// detections after suppression, in normalised coordinates of the square
// region lb that the letterbox spans.
func (t *Tracker) detections(w, h int) ([]detection, roi, error) {
	start := time.Now()
	defer func() { t.last.Detector += time.Since(start) }()
	// Letterbox: the whole frame, aspect kept, centred in 224 x 224.
	lb := roi{CX: float64(w) / 2, CY: float64(h) / 2, Size: float64(max(w, h))}
	if err := t.feed(t.det, lb, -1, 2.0/255, gocv.BorderConstant); err != nil {
		return nil, lb, err
	}
	if err := t.det.run(); err != nil {
		return nil, lb, err
	}
	dets := weightedNMS(decodeDetections(t.det.outs[0].GetData(), t.det.outs[1].GetData(), t.anchors,
		poseDecodeOptions()), poseDecodeOptions().MinSuppression)
	return dets, lb, nil
}

// pick returns the region around the person to follow among dets.
func (t *Tracker) pick(dets []detection, lb roi, w int) roi {
	toFrame := lb.toFrame
	best, bestKey := -1, math.Inf(-1)
	for i, d := range dets {
		x0, y0 := toFrame(d.KP[0][0], d.KP[0][1])
		x1, y1 := toFrame(d.KP[1][0], d.KP[1][1])
		cx, _ := toFrame(d.XMin+d.W/2, d.YMin+d.H/2)
		if k := pickKey(math.Hypot(x1-x0, y1-y0), cx, float64(w)); k > bestKey {
			best, bestKey = i, k
		}
	}
	d := dets[best]
	x0, y0 := toFrame(d.KP[0][0], d.KP[0][1])
	x1, y1 := toFrame(d.KP[1][0], d.KP[1][1])
	return roiFromPoints(x0, y0, x1, y1)
}

// pickKey ranks detections when several people are in view: the largest
// (the radius of the circle around the body), most central (the face box's
// distance from the frame's vertical midline) one wins; a person at the
// frame's side edge counts half their size.
func pickKey(radius, faceX, frameW float64) float64 {
	off := math.Abs(faceX-frameW/2) / (frameW / 2)
	return radius * (1 - 0.5*min(off, 1))
}

// feed warps region r of t.rgb into g's n x n input: value = pixel * scale
// + offset (offset -1 with scale 2/255 gives [-1, 1]; 0 and 1/255 [0, 1]).
func (t *Tracker) feed(g *graph, r roi, offset, scale float64, border gocv.BorderType) error {
	n := g.size
	m := r.tensorToFrame(n)
	defer m.Close()
	gocv.WarpAffineWithParams(t.rgb, &t.crop, m, image.Pt(n, n),
		gocv.InterpolationLinear|gocv.WarpInverseMap, border, color.RGBA{})
	t.crop.ConvertToWithParams(&t.cropF, gocv.MatTypeCV32FC3, float32(scale), float32(offset))
	return t.fill(g)
}

// fill copies t.cropF (float RGB, g's input size) into g's input tensor in
// the graph's layout.
func (t *Tracker) fill(g *graph) error {
	src, err := t.cropF.DataPtrFloat32()
	if err != nil {
		return fmt.Errorf("person: crop data: %w", err)
	}
	dst := g.in.GetData()
	if len(src) != len(dst) {
		return fmt.Errorf("person: crop of %d values for an input of %d", len(src), len(dst))
	}
	if !g.nchw {
		copy(dst, src)
		return nil
	}
	plane := len(dst) / 3
	for i := 0; i < plane; i++ {
		dst[i], dst[plane+i], dst[2*plane+i] = src[3*i], src[3*i+1], src[3*i+2]
	}
	return nil
}

// landmarks runs the landmark model on region r and returns the 39
// landmarks in frame pixels and the person-presence probability.
func (t *Tracker) landmarks(r roi) ([39]Keypoint, float64, error) {
	start := time.Now()
	defer func() { t.last.Landmark += time.Since(start) }()
	var out [39]Keypoint
	if err := t.feed(t.lm, r, 0, 1.0/255, t.lmBorder); err != nil {
		return out, 0, err
	}
	if err := t.lm.run(); err != nil {
		return out, 0, err
	}
	raw := t.lm.outs[0].GetData()
	n := float64(t.lm.size)
	for i := range out {
		v := raw[5*i : 5*i+5]
		x, y := r.toFrame(float64(v[0])/n, float64(v[1])/n)
		out[i] = Keypoint{X: x, Y: y, Z: float64(v[2]) / n * r.Size,
			Visibility: sigmoid(float64(v[3])), Presence: sigmoid(float64(v[4]))}
	}
	flag := float64(t.lm.outs[1].GetData()[0])
	if flag < 0 || flag > 1 {
		flag = sigmoid(flag) // a graph that leaves the flag as a logit
	}
	return out, flag, nil
}

// landmarkMask brings the landmark model's segmentation logits (region r)
// back to a w x h CV8UC1 mask; outside the region is background.
func (t *Tracker) landmarkMask(r roi, w, h int) gocv.Mat {
	n := t.lm.size
	logits := t.lm.outs[2].GetData()
	t.mask8 = ensure(t.mask8, n, n, gocv.MatTypeCV8UC1)
	buf, _ := t.mask8.DataPtrUint8()
	for i, v := range logits[:n*n] {
		buf[i] = uint8(255/(1+math.Exp(-float64(v))) + 0.5)
	}
	m := r.tensorToFrame(n)
	defer m.Close()
	out := gocv.NewMat()
	gocv.WarpAffineWithParams(t.mask8, &out, m, image.Pt(w, h), gocv.InterpolationLinear,
		gocv.BorderConstant, color.RGBA{})
	return out
}

// selfieMask runs the selfie-segmentation graph on the whole frame
// (stretched to its square input) and returns a w x h CV8UC1 mask.
func (t *Tracker) selfieMask(w, h int) (gocv.Mat, error) {
	start := time.Now()
	defer func() { t.last.Selfie += time.Since(start) }()
	n := t.selfie.size
	gocv.Resize(t.rgb, &t.crop, image.Pt(n, n), 0, 0, gocv.InterpolationLinear)
	t.crop.ConvertToWithParams(&t.cropF, gocv.MatTypeCV32FC3, 1.0/255, 0)
	if err := t.fill(t.selfie); err != nil {
		return gocv.Mat{}, err
	}
	if err := t.selfie.run(); err != nil {
		return gocv.Mat{}, err
	}
	prob := t.selfie.outs[0].GetData()
	t.mask8 = ensure(t.mask8, n, n, gocv.MatTypeCV8UC1)
	buf, _ := t.mask8.DataPtrUint8()
	for i, v := range prob[:n*n] {
		buf[i] = uint8(min(max(v, 0), 1)*255 + 0.5)
	}
	out := gocv.NewMat()
	gocv.Resize(t.mask8, &out, image.Pt(w, h), 0, 0, gocv.InterpolationLinear)
	return out, nil
}

// ensure returns m if it is rows x cols of type typ, else a new Mat of that
// shape (closing m).
func ensure(m gocv.Mat, rows, cols int, typ gocv.MatType) gocv.Mat {
	if m.Rows() == rows && m.Cols() == cols && m.Type() == typ {
		return m
	}
	m.Close()
	return gocv.NewMatWithSize(rows, cols, typ)
}
