// Package live runs the try-on session behind the desktop window: it opens
// a frame source, feeds the inference pipeline, turns results into images
// for the window, records clips and takes snapshots. It implements the
// ui.Engine and ui.Catalog interfaces on top of capture, inference and
// garments.
package live

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"

	"gocv.io/x/gocv"

	"mgvton/capture"
	"mgvton/garments"
	"mgvton/inference"
	"mgvton/internal/fsutil"
	"mgvton/ui"
)

// Options configure an Engine.
type Options struct {
	ORTLib    string // ONNX Runtime library; empty: inference's default
	ModelsDir string // folder whose sub-folders are models; empty: parent of the default model
	Log       *slog.Logger
}

// Engine implements ui.Engine.
type Engine struct {
	opts Options
	lib  *garments.Library
	log  *slog.Logger

	frames chan ui.Frame
	errs   chan error
	mirror atomic.Bool

	// cfg serialises SetModel and SetGarment (each slow): a garment chosen
	// while a model loads is then prepared for the new model, not lost.
	cfg sync.Mutex

	mu        sync.Mutex // guards the fields below
	modelDir  string
	model     *inference.Model
	pipe      *inference.Pipeline
	consumer  sync.WaitGroup // the goroutine reading pipe's results
	garmentID string
	src       capture.Source
	srcCancel context.CancelFunc
	reader    sync.WaitGroup

	rec struct {
		sync.Mutex
		r   *capture.Recorder
		err error // first write error of the current recording
	}
	snap struct {
		sync.Mutex
		img gocv.Mat // latest shown try-on (or camera picture)
	}
	closed atomic.Bool
}

// NewEngine makes an engine over a garment library. It loads no model and
// opens no source: the window does that through SetModel and Open.
func NewEngine(lib *garments.Library, opts Options) *Engine {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	e := &Engine{opts: opts, lib: lib, log: opts.Log,
		frames: make(chan ui.Frame, 1), errs: make(chan error, 8)}
	e.snap.img = gocv.NewMat()
	return e
}

// Sources lists the cameras found now and the demo clip.
func (e *Engine) Sources() []ui.SourceItem {
	var items []ui.SourceItem
	cams, err := capture.ListCameras()
	if err != nil {
		e.log.Warn("list cameras", "err", err)
	}
	for _, c := range cams {
		items = append(items, ui.SourceItem{Label: c.Label, Spec: c.Spec, Camera: true})
	}
	if _, err := capture.DemoPath(); err == nil {
		items = append(items, ui.SourceItem{Label: "Demo clip", Spec: ui.DemoSource})
	}
	return items
}

// Models lists the model folders beside the default model, the default first.
func (e *Engine) Models() []ui.ModelItem {
	dir := e.opts.ModelsDir
	if dir == "" {
		dir = filepath.Dir(inference.DefaultModelDir())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var items []ui.ModelItem
	for _, ent := range entries {
		p := filepath.Join(dir, ent.Name())
		man, err := inference.LoadManifest(p)
		if err != nil {
			continue
		}
		items = append(items, ui.ModelItem{Label: fmt.Sprintf("%s (%dx%d)", man.Name, man.Height, man.Width), Dir: p})
	}
	// The shipped default first (the window falls back to the first), then by name.
	sort.SliceStable(items, func(i, j int) bool {
		di, dj := filepath.Base(items[i].Dir) == "default", filepath.Base(items[j].Dir) == "default"
		if di != dj {
			return di
		}
		return items[i].Dir < items[j].Dir
	})
	return items
}

// Frames delivers frames to show (latest value).
func (e *Engine) Frames() <-chan ui.Frame { return e.frames }

// Errors reports streaming problems.
func (e *Engine) Errors() <-chan error { return e.errs }

// SetMirror flips the picture horizontally from the next frame on.
func (e *Engine) SetMirror(on bool) { e.mirror.Store(on) }

// report sends err to the window without ever blocking the stream.
func (e *Engine) report(err error) {
	e.log.Warn("stream", "err", err)
	select {
	case e.errs <- err:
	default:
	}
}

// SetModel loads the model in dir, prepares the current garment for it and
// swaps it in; the old model is released after its pipeline stopped.
func (e *Engine) SetModel(dir string) error {
	if e.closed.Load() {
		return inference.ErrClosed
	}
	e.cfg.Lock()
	defer e.cfg.Unlock()
	e.mu.Lock()
	same := e.model != nil && filepath.Clean(dir) == filepath.Clean(e.modelDir)
	garmentID := e.garmentID
	e.mu.Unlock()
	if same {
		return nil
	}
	m, err := inference.LoadModel(dir, inference.Options{LibraryPath: e.opts.ORTLib})
	if err != nil {
		return err
	}
	// Missing person models: the stream goes on (frames pass through) and
	// the error is shown.
	p, err := inference.NewPipeline(m, inference.PipelineOptions{PersonOptional: true})
	if err != nil {
		m.Close()
		return err
	}
	if err := p.FramingErr(); err != nil {
		e.report(err)
	}
	if garmentID != "" {
		g, err := e.prepare(m, garmentID)
		if err != nil {
			e.report(err)
		} else {
			p.SetGarment(g)
		}
	}
	if err := p.Start(context.Background()); err != nil {
		p.Close()
		m.Close()
		return err
	}
	e.mu.Lock()
	oldModel, oldPipe := e.model, e.pipe
	e.model, e.pipe, e.modelDir = m, p, dir
	e.mu.Unlock()
	if oldPipe != nil {
		oldPipe.Close() // ends the old consumer
	}
	e.consumer.Wait()
	e.consumer.Add(1)
	go func() { defer e.consumer.Done(); e.consume(p) }()
	if oldModel != nil {
		oldModel.Close()
	}
	return nil
}

// prepare loads a catalog garment and converts it for m.
func (e *Engine) prepare(m *inference.Model, id string) (*inference.Garment, error) {
	g, ok := e.lib.Get(id)
	if !ok {
		return nil, fmt.Errorf("garment %q is not in the catalog", id)
	}
	img, mask, err := garments.Load(g)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	defer mask.Close()
	return m.PrepareGarment(context.Background(), id, img, mask)
}

// SetGarment makes the catalog garment id the one worn.
func (e *Engine) SetGarment(id string) error {
	e.cfg.Lock()
	defer e.cfg.Unlock()
	e.mu.Lock()
	m, p := e.model, e.pipe
	e.garmentID = id
	e.mu.Unlock()
	if m == nil {
		return nil // applied when a model is loaded
	}
	g, err := e.prepare(m, id)
	if err != nil {
		return err
	}
	p.SetGarment(g)
	return nil
}

// Open (re)starts the stream from a source spec.
func (e *Engine) Open(ctx context.Context, spec string) error {
	if e.closed.Load() {
		return inference.ErrClosed
	}
	e.stopSource()
	if err := ctx.Err(); err != nil {
		return err
	}
	src, err := capture.Open(spec, capture.Options{RealTime: true, Loop: true, Width: 1280, Height: 720, FPS: 30})
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(context.Background())
	e.mu.Lock()
	e.src, e.srcCancel = src, cancel
	e.reader.Add(1)
	e.mu.Unlock()
	go func() { defer e.reader.Done(); e.read(rctx, src) }()
	return nil
}

// stopSource stops the reader and closes the source.
func (e *Engine) stopSource() {
	e.mu.Lock()
	src, cancel := e.src, e.srcCancel
	e.src, e.srcCancel = nil, nil
	e.mu.Unlock()
	if src == nil {
		return
	}
	cancel()
	src.Close() // unblocks Read
	e.reader.Wait()
}

// read moves frames from the source into the pipeline (or straight to the
// window while no model is loaded).
func (e *Engine) read(ctx context.Context, src capture.Source) {
	rgba := newConverter()
	defer rgba.close()
	for ctx.Err() == nil {
		f, err := src.Read()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, capture.ErrClosed) {
				e.report(err)
			}
			return
		}
		if e.mirror.Load() {
			gocv.Flip(f.Mat, &f.Mat, 1)
		}
		e.mu.Lock()
		p := e.pipe
		e.mu.Unlock()
		if p != nil {
			p.Submit(inference.Frame{Mat: f.Mat, Time: f.Time, Seq: f.Seq})
			continue
		}
		frame := ui.Frame{Camera: rgba.image(f.Mat), Stats: ui.Stats{PersonFound: true}}
		f.Mat.Close()
		e.publish(frame)
	}
}

// publish offers a frame to the window, replacing one it has not taken.
func (e *Engine) publish(f ui.Frame) {
	for {
		select {
		case e.frames <- f:
			return
		default:
		}
		select {
		case <-e.frames:
		default:
		}
	}
}

// consume turns pipeline results into window frames, recorder frames and
// the snapshot picture, until the pipeline closes.
func (e *Engine) consume(p *inference.Pipeline) {
	conv := newConverter()
	defer conv.close()
	for res := range p.Results() {
		e.deliver(conv, res, p.Stats())
	}
}

// deliver hands one result to the window, the recorder and the snapshot,
// and releases it.
func (e *Engine) deliver(conv *converter, res inference.Result, st inference.Stats) {
	frame := ui.Frame{
		Camera: conv.image(res.Frame),
		Stats: ui.Stats{
			DisplayFPS:  st.Display.FPS,
			WarpFPS:     st.Warp.FPS,
			LatencyMS:   float64(st.EndToEnd.LatencyP50.Microseconds()) / 1000,
			Dropped:     st.Dropped(),
			PersonFound: res.Person,
		},
	}
	if res.Applied {
		frame.TryOn = conv.image(res.TryOn)
	}
	e.record(res)
	e.snap.Lock()
	res.TryOn.CopyTo(&e.snap.img)
	e.snap.Unlock()
	res.Close()
	e.publish(frame)
}

// record writes a result to the clip being recorded, if any.
func (e *Engine) record(res inference.Result) {
	e.rec.Lock()
	defer e.rec.Unlock()
	if e.rec.r == nil || e.rec.err != nil {
		return
	}
	if err := e.rec.r.Write(res.TryOn, res.Time); err != nil {
		e.rec.err = err
		e.report(fmt.Errorf("recording stopped: %w", err))
	}
}

// StartRecording starts a clip at path (which must not exist).
func (e *Engine) StartRecording(path string) error {
	e.rec.Lock()
	defer e.rec.Unlock()
	if e.rec.r != nil {
		return errors.New("already recording")
	}
	r, err := capture.NewRecorder(path, capture.RecorderOptions{FPS: 30})
	if err != nil {
		return err
	}
	e.rec.r, e.rec.err = r, nil
	return nil
}

// StopRecording finishes the clip. A write error during the recording is
// returned with the path: what was written before it stays playable.
func (e *Engine) StopRecording() (string, error) {
	e.rec.Lock()
	r, werr := e.rec.r, e.rec.err
	e.rec.r, e.rec.err = nil, nil
	e.rec.Unlock()
	if r == nil {
		return "", errors.New("not recording")
	}
	err := r.Close()
	if werr != nil {
		err = werr
	}
	return r.Path(), err
}

// Snapshot writes the current try-on picture as PNG.
func (e *Engine) Snapshot(path string) error {
	e.snap.Lock()
	if e.snap.img.Empty() {
		e.snap.Unlock()
		return errors.New("nothing to save yet: no frame has been shown")
	}
	buf, err := gocv.IMEncode(gocv.PNGFileExt, e.snap.img)
	e.snap.Unlock()
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	defer buf.Close()
	return fsutil.WriteFile(path, buf.GetBytes(), 0o644)
}

// Close stops everything and releases the model. It is idempotent.
func (e *Engine) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	e.stopSource()
	if _, err := e.StopRecording(); err != nil && err.Error() != "not recording" {
		e.log.Warn("stop recording", "err", err)
	}
	e.mu.Lock()
	p, m := e.pipe, e.model
	e.pipe, e.model = nil, nil
	e.mu.Unlock()
	if p != nil {
		p.Close()
	}
	e.consumer.Wait()
	if m != nil {
		m.Close()
	}
	e.snap.Lock()
	e.snap.img.Close()
	e.snap.Unlock()
	return nil
}

// converter turns BGR Mats into fresh *image.RGBA images (the window owns
// each one it receives), through one reused RGBA Mat.
type converter struct{ rgba gocv.Mat }

func newConverter() *converter { return &converter{rgba: gocv.NewMat()} }

func (c *converter) close() { c.rgba.Close() }

func (c *converter) image(m gocv.Mat) *image.RGBA {
	gocv.CvtColor(m, &c.rgba, gocv.ColorBGRToRGBA)
	img := image.NewRGBA(image.Rect(0, 0, m.Cols(), m.Rows()))
	if pix, err := c.rgba.DataPtrUint8(); err == nil {
		copy(img.Pix, pix)
	}
	return img
}
