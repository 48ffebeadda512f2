// Package ui is mgvton's Fyne window: live view, garment picker, recording,
// HUD and settings.
//
// The package knows nothing about cameras, models or the catalog on disk: it
// talks to an Engine and a Catalog, interfaces defined here and implemented by
// the package that wires the app together. Everything it shows is an
// image.Image.
//
// Use:
//
//	a := app.NewWithID("io.mgvton.app") // an id, so that settings persist
//	w := ui.New(a, engine, catalog, ui.Options{StartSource: *source})
//	w.ShowAndRun() // returns when the window is closed
//	engine.Close()
//
// Threading: widgets are touched only on the Fyne UI goroutine. Every call to
// the Engine or the Catalog that may be slow runs on a goroutine owned by the
// Window (ended by Window.Close), recovers from panics and reports back
// through fyne.Do.
package ui

import (
	"context"
	"image"
)

// DemoSource is the source spec of the bundled demo clip. The app falls back
// to it when no camera is found.
const DemoSource = "demo"

// Frame is one picture of the live view.
//
// Ownership (the pion/mediadevices Read() (img, release, err) contract):
// once sent on Engine.Frames, a Frame and its images belong to the receiver
// until it calls Release, after which it must not touch them again: the
// engine then reuses them for a later frame. A receiver that never calls
// Release only costs the engine fresh buffers. Images of type *image.RGBA
// with a zero origin are shown without a copy; other types are converted
// into a buffer the window reuses.
type Frame struct {
	// Camera is the source picture as it goes into the model (mirrored when
	// mirroring is on). Never nil.
	Camera image.Image
	// TryOn is the person wearing the selected garment, usually the same
	// size as Camera. Nil while no model or garment is ready: the window then shows
	// the camera picture in its place.
	TryOn image.Image
	// Stats are the engine's figures at the time of this frame.
	Stats Stats
	// Release, when not nil, gives Camera and TryOn back to the engine once
	// they are no longer shown (or the frame is dropped). Call it once.
	Release func()
}

// release calls f.Release if it is set.
func (f *Frame) release() {
	if f != nil && f.Release != nil {
		f.Release()
	}
}

// Stats are the live figures the HUD shows.
type Stats struct {
	DisplayFPS float64 // frames per second leaving the engine for display
	WarpFPS    float64 // rate at which the (slow) warp stage updates the fit
	LatencyMS  float64 // camera capture to try-on frame, end to end
	Dropped    int64   // stale frames dropped since the source was opened
	// PersonFound is false when no person is in view (the HUD says so).
	PersonFound bool
	// PersonMS is what the person models (pose + mask) cost per frame, p50;
	// 0 when they do not run.
	PersonMS float64
}

// SourceItem is an entry of the source picker.
type SourceItem struct {
	Label  string // shown to the user: "HD Webcam", "Demo clip"
	Spec   string // passed to Engine.Open: "cam:0", DemoSource, a file path
	Camera bool   // a live camera: enables the mirror toggle
}

// ModelItem is an entry of the model picker.
type ModelItem struct {
	Label string // shown to the user: "MG-VTON student 256x192"
	Dir   string // model folder passed to Engine.SetModel
}

// GarmentItem is a garment of the catalog as the picker shows it.
type GarmentItem struct {
	ID       string      // stable id passed to Engine.SetGarment
	Name     string      // shown under the thumbnail
	Category string      // "tops", "dresses"...; filter of the category select
	Tags     []string    // also matched by the search entry
	Thumb    image.Image // small preview (about 256 px); nil shows a placeholder
	Bundled  bool        // shipped with the app (not imported by the user)
}

// Catalog is the garment catalog the picker shows and adds to.
type Catalog interface {
	// List returns every garment, in display order. It is called on the UI
	// goroutine and must be quick (no decoding from disk).
	List() []GarmentItem
	// Import adds the garment photo at path (PNG, JPEG or WebP) to the
	// catalog and returns it. It may take seconds (mask, thumbnail): the
	// window calls it off the UI goroutine and shows progress.
	Import(path string) (GarmentItem, error)
}

// Engine runs the live try-on: a source, a model and a garment in, frames
// out. Methods may be called from any goroutine; the window calls the slow
// ones (Open, SetModel, SetGarment, recording, Snapshot) off the UI goroutine,
// one call at a time per method.
//
// The window does not own the engine: whoever created it closes it after
// Window.ShowAndRun returns.
type Engine interface {
	// Sources lists what can be opened now: the cameras found plus the demo
	// clip (Spec DemoSource). Called at start and after a source error.
	Sources() []SourceItem
	// Models lists the model folders that can be loaded.
	Models() []ModelItem

	// Open (re)starts the stream from a source spec: an entry of Sources or
	// a video file path. ctx bounds the opening only (it is cancelled when
	// the window closes); the stream runs until the next Open or until the
	// engine is closed. On error the previous stream may have stopped.
	Open(ctx context.Context, source string) error
	// SetModel loads the model in dir and uses it for the next frames. Slow
	// (seconds): the window shows progress. Loading the model already in use
	// should return at once.
	SetModel(dir string) error
	// SetGarment makes the garment with this catalog id the one worn.
	SetGarment(id string) error
	// SetMirror flips camera sources horizontally (selfie view). Must be
	// quick: it is called on the UI goroutine.
	SetMirror(on bool)

	// Frames delivers the frames to show with latest-value semantics: the
	// engine drops stale frames rather than queueing them, so a slow window
	// never slows the camera. The channel stays open for the engine's life.
	Frames() <-chan Frame
	// Errors reports problems found while streaming, e.g. a camera that
	// disappeared. The window shows them and keeps running. An error
	// matching capture.ErrStalled (no frames for a while) is shown until
	// frames come again.
	Errors() <-chan error

	// StartRecording starts writing the try-on stream to the clip at path
	// (the window picks a new, timestamped path; it never exists yet).
	StartRecording(path string) error
	// StopRecording finishes the clip and returns the path written.
	StopRecording() (path string, err error)
	// Snapshot writes the current try-on picture to path as PNG.
	Snapshot(path string) error
}

// Options set the state the window starts in, typically from command-line
// flags. Empty fields restore what the user had last time (Fyne
// preferences), then fall back to sensible defaults.
// DisplaySizer is implemented by engines that can scale frames down for
// the window. The window calls SetDisplaySize (from its UI goroutine, so it
// must not block) with the size in pixels of the camera pane and of the
// try-on pane whenever they change a lot; the engine then delivers
// pictures no larger than those (aspect kept, never scaled up). A 720p
// camera shown in a 460-pixel pane costs a quarter of the conversion,
// memory and texture upload. A zero size means full size.
type DisplaySizer interface {
	SetDisplaySize(camera, tryOn image.Point)
}

type Options struct {
	StartSource  string // source spec (-source): "demo", "cam:0", a file
	StartGarment string // garment id (-garment)
	StartModel   string // model folder (-model)
}
