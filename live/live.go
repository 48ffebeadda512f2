// Package live runs live try-on streams. A Session is one stream: it reads
// a frame source into the inference pipeline and hands each result to the
// sinks (the window's frames, converted once into pooled RGBA images; a
// clip recorder; the snapshot). The desktop app (through Engine, which
// implements ui.Engine and ui.Catalog on top of capture, inference and
// garments), `mgvton record` and `mgvton bench` all run their stream
// through a Session.
package live

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"

	"mgvton/capture"
	"mgvton/garments"
	"mgvton/inference"
	"mgvton/ui"
)

// Options configure an Engine.
type Options struct {
	LibraryPath string // ONNX Runtime library; empty: inference's default
	ModelsDir   string // folder whose sub-folders are models; empty: parent of the default model
	// PoseLite frames people with the lite pose landmark model instead of
	// the full one (person.Options.Lite); the app sets it (-pose lite).
	PoseLite bool
	Log      *slog.Logger
}

// Engine implements ui.Engine: it loads models and garments and runs the
// stream through one Session.
type Engine struct {
	opts Options
	lib  *garments.Library
	log  *slog.Logger
	sess *Session

	// cfg serialises SetModel and SetGarment (each slow): a garment chosen
	// while a model loads is then prepared for the new model, not lost.
	cfg sync.Mutex

	mu        sync.Mutex // guards the fields below
	modelDir  string
	model     *inference.Model
	garmentID string

	closed atomic.Bool
}

// NewEngine makes an engine over a garment library. It loads no model and
// opens no source: the window does that through SetModel and Open.
func NewEngine(lib *garments.Library, opts Options) *Engine {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Engine{opts: opts, lib: lib, log: opts.Log,
		sess: NewSession(SessionOptions{Display: true, Log: opts.Log})}
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
func (e *Engine) Frames() <-chan ui.Frame { return e.sess.Frames() }

// Errors reports streaming problems.
func (e *Engine) Errors() <-chan error { return e.sess.Errors() }

// SetMirror flips the picture horizontally from the next frame on.
func (e *Engine) SetMirror(on bool) { e.sess.SetMirror(on) }

// SetDisplaySize scales the pictures on Frames down to the window's panes
// (ui.DisplaySizer).
func (e *Engine) SetDisplaySize(camera, tryOn image.Point) { e.sess.SetDisplaySize(camera, tryOn) }

// report sends err to the window without ever blocking the stream.
func (e *Engine) report(err error) { e.sess.Report(err) }

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
	m, err := inference.LoadModel(dir, inference.Options{LibraryPath: e.opts.LibraryPath})
	if err != nil {
		return err
	}
	// Missing person models: the stream goes on (frames pass through) and
	// the error is shown.
	po := inference.PipelineOptions{PersonOptional: true}
	po.FramingOpts.Person.Lite = e.opts.PoseLite
	p, err := inference.NewPipeline(m, po)
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
	if err := e.sess.SetPipeline(p); err != nil { // closes p on error
		m.Close()
		return err
	}
	e.mu.Lock()
	old := e.model
	e.model, e.modelDir = m, dir
	e.mu.Unlock()
	if old != nil {
		old.Close() // its pipeline was closed by SetPipeline
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
	m := e.model
	e.garmentID = id
	e.mu.Unlock()
	p := e.sess.Pipeline()
	if m == nil || p == nil {
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
	e.sess.CloseSource() // a camera must be free before it is opened again
	if err := ctx.Err(); err != nil {
		return err
	}
	src, err := capture.Open(spec, capture.Options{RealTime: true, Loop: true, Width: 1280, Height: 720, FPS: 30})
	if err != nil {
		return err
	}
	e.sess.Open(src)
	return nil
}

// StartRecording starts a clip at path (which must not exist).
func (e *Engine) StartRecording(path string) error { return e.sess.StartRecording(path) }

// StopRecording finishes the clip. A write error during the recording is
// returned with the path: what was written before it stays playable.
func (e *Engine) StopRecording() (string, error) { return e.sess.StopRecording() }

// Snapshot writes the current try-on picture as PNG.
func (e *Engine) Snapshot(path string) error { return e.sess.Snapshot(path) }

// Close stops everything and releases the model. It is idempotent.
func (e *Engine) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	e.sess.Close() // stops the source, the recording and the pipeline
	e.cfg.Lock()   // a SetModel in progress now fails and closes its model
	defer e.cfg.Unlock()
	e.mu.Lock()
	m := e.model
	e.model = nil
	e.mu.Unlock()
	if m != nil {
		m.Close()
	}
	return nil
}
