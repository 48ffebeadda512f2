package ui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// fakeEngine records the calls it gets and sends the frames and errors a
// test gives it.
type fakeEngine struct {
	sources []SourceItem
	models  []ModelItem
	frames  chan Frame
	errs    chan error

	mu       sync.Mutex
	calls    []string
	rec      string
	fail     map[string]error // method name -> error to return
	panicOn  string           // method name that panics
	modelGap time.Duration    // SetModel takes this long
	recGate  chan struct{}    // when set, StartRecording waits for it to close
}

func newFakeEngine(camera bool) *fakeEngine {
	e := &fakeEngine{
		sources: []SourceItem{{Label: "Demo clip", Spec: DemoSource}},
		models:  []ModelItem{{Label: "Student 256", Dir: "/models/s256"}, {Label: "Student 512", Dir: "/models/s512"}},
		frames:  make(chan Frame, 1),
		errs:    make(chan error, 1),
		fail:    map[string]error{},
	}
	if camera {
		e.sources = append([]SourceItem{{Label: "HD Webcam", Spec: "cam:0", Camera: true}}, e.sources...)
	}
	return e
}

func (e *fakeEngine) record(method, arg string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, strings.TrimSpace(method+" "+arg))
	if e.panicOn == method {
		panic("fake engine: " + method + " exploded")
	}
	return e.fail[method]
}

// called reports whether a call "method arg" was made.
func (e *fakeEngine) called(call string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Contains(e.calls, call)
}

// lastCall returns the last call of method ("" if none).
func (e *fakeEngine) lastCall(method string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.calls) - 1; i >= 0; i-- {
		if e.calls[i] == method || strings.HasPrefix(e.calls[i], method+" ") {
			return e.calls[i]
		}
	}
	return ""
}

func (e *fakeEngine) setFail(method string, err error) {
	e.mu.Lock()
	e.fail[method] = err
	e.mu.Unlock()
}

func (e *fakeEngine) Sources() []SourceItem { e.record("Sources", ""); return slices.Clone(e.sources) }
func (e *fakeEngine) Models() []ModelItem   { return slices.Clone(e.models) }
func (e *fakeEngine) Open(_ context.Context, source string) error {
	return e.record("Open", source)
}
func (e *fakeEngine) SetModel(dir string) error {
	time.Sleep(e.modelGap)
	return e.record("SetModel", dir)
}
func (e *fakeEngine) SetGarment(id string) error { return e.record("SetGarment", id) }
func (e *fakeEngine) SetMirror(on bool)          { e.record("SetMirror", fmt.Sprint(on)) }
func (e *fakeEngine) Frames() <-chan Frame       { return e.frames }
func (e *fakeEngine) Errors() <-chan error       { return e.errs }
func (e *fakeEngine) StartRecording(path string) error {
	if e.recGate != nil {
		<-e.recGate
	}
	if err := e.record("StartRecording", path); err != nil {
		return err
	}
	e.mu.Lock()
	e.rec = path
	e.mu.Unlock()
	return nil
}
func (e *fakeEngine) StopRecording() (string, error) {
	if err := e.record("StopRecording", ""); err != nil {
		return "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.rec
	e.rec = ""
	return p, nil
}
func (e *fakeEngine) Snapshot(path string) error { return e.record("Snapshot", path) }

// SetDisplaySize records the pane sizes as "WxH WxH" (camera, try-on).
func (e *fakeEngine) SetDisplaySize(camera, tryOn image.Point) {
	e.record("SetDisplaySize", fmt.Sprintf("%dx%d %dx%d", camera.X, camera.Y, tryOn.X, tryOn.Y))
}

// syntheticFrame is a small frame whose colours depend on n.
func syntheticFrame(n int, person bool) Frame {
	cam := image.NewRGBA(image.Rect(0, 0, 64, 48))
	try := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			cam.SetRGBA(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), uint8(n), 255})
			try.SetRGBA(x, y, color.RGBA{uint8(n), uint8(x * 4), uint8(y * 5), 255})
		}
	}
	return Frame{Camera: cam, TryOn: try, Stats: Stats{DisplayFPS: 29.5, WarpFPS: 3.25, LatencyMS: 181, Dropped: int64(n), PersonFound: person, PersonMS: 31.4}}
}

// fakeCatalog serves a fixed list and imports with a given result.
type fakeCatalog struct {
	mu        sync.Mutex
	items     []GarmentItem
	importErr error
	imported  []string
}

func newFakeCatalog() *fakeCatalog {
	thumb := func(c color.RGBA) image.Image {
		img := image.NewRGBA(image.Rect(0, 0, 16, 16))
		for i := 0; i < len(img.Pix); i += 4 {
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
		}
		return img
	}
	return &fakeCatalog{items: []GarmentItem{
		{ID: "g1", Name: "Coral tee", Category: "tops", Tags: []string{"cotton"}, Thumb: thumb(color.RGBA{240, 100, 80, 255}), Bundled: true},
		{ID: "g2", Name: "Navy tee", Category: "tops", Thumb: thumb(color.RGBA{40, 60, 120, 255}), Bundled: true},
		{ID: "g3", Name: "Rose dress", Category: "dresses", Tags: []string{"summer"}, Thumb: thumb(color.RGBA{230, 130, 170, 255}), Bundled: true},
		{ID: "g4", Name: "Olive jacket", Category: "outerwear", Bundled: true},
	}}
}

func (c *fakeCatalog) List() []GarmentItem {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.items)
}

func (c *fakeCatalog) Import(path string) (GarmentItem, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.imported = append(c.imported, path)
	if c.importErr != nil {
		return GarmentItem{}, c.importErr
	}
	name := strings.TrimSuffix(path[strings.LastIndex(path, "/")+1:], ".png")
	it := GarmentItem{ID: "user-" + name, Name: name, Category: "tops"}
	c.items = append(c.items, it)
	return it, nil
}

// uiQueue stands in for Fyne's event loop in tests: the window's do()
// queues functions and the test goroutine runs them, so that widgets are
// only ever touched by one goroutine, as in the real app.
type uiQueue struct {
	mu     sync.Mutex
	fns    []func()
	notify chan struct{}
}

func newUIQueue() *uiQueue { return &uiQueue{notify: make(chan struct{}, 1)} }

func (q *uiQueue) do(fn func()) {
	q.mu.Lock()
	q.fns = append(q.fns, fn)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// drain runs what is queued (and what that queues) now.
func (q *uiQueue) drain() {
	for {
		q.mu.Lock()
		fns := q.fns
		q.fns = nil
		q.mu.Unlock()
		if len(fns) == 0 {
			return
		}
		for _, fn := range fns {
			fn()
		}
	}
}

// openURLApp records the URLs the window asks to open.
type openURLApp struct {
	fyne.App
	mu     sync.Mutex
	opened []string
}

func (a *openURLApp) OpenURL(u *url.URL) error {
	a.mu.Lock()
	a.opened = append(a.opened, u.String())
	a.mu.Unlock()
	return nil
}

// harness is a window under test with its fakes.
type harness struct {
	t   testing.TB
	app *openURLApp
	eng *fakeEngine
	cat *fakeCatalog
	q   *uiQueue
	w   *Window
}

// testEnv keeps preferences and Videos out of the real home.
func testEnv(t testing.TB) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_DATA_HOME", t.TempDir())
}

// newTestApp is a fresh test app whose preferences live as long as it.
func newTestApp(t testing.TB) *openURLApp {
	testEnv(t)
	return &openURLApp{App: test.NewTempApp(t)}
}

func newHarness(t testing.TB, a *openURLApp, eng *fakeEngine, cat *fakeCatalog, opts Options) *harness {
	t.Helper()
	h := &harness{t: t, app: a, eng: eng, cat: cat, q: newUIQueue()}
	h.w = newWindow(a, eng, cat, opts, h.q.do)
	h.w.win.Resize(fyne.NewSize(1280, 800))
	t.Cleanup(h.close)
	h.settle()
	return h
}

// close closes the window (idempotent) and checks its goroutines end.
func (h *harness) close() {
	if !h.w.closed {
		h.w.win.Close() // OnClosed stops the window's work
	}
	done := make(chan struct{})
	go func() {
		h.w.wg.Wait() // lane results are queued, never run: nothing blocks
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		h.t.Errorf("window goroutines did not end after close")
	}
}

// waitFor runs UI work until cond holds; it fails the test after 5 s.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.q.drain()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		select {
		case <-h.q.notify:
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// settle waits until no lane has work and the queue is empty.
func (h *harness) settle() {
	h.t.Helper()
	h.waitFor("background work to finish", func() bool {
		for _, l := range []*lane{h.w.sourceLane, h.w.modelLane, h.w.garmentLane, h.w.recordLane, h.w.importLane, h.w.listLane} {
			l.mu.Lock()
			busy := l.running
			l.mu.Unlock()
			if busy {
				return false
			}
		}
		h.q.mu.Lock()
		defer h.q.mu.Unlock()
		return len(h.q.fns) == 0
	})
}

// key sends a key press to the window's canvas.
func (h *harness) key(name fyne.KeyName) {
	h.w.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: name})
}

// dialogText returns the text of the top dialog ("" when none is open).
func (h *harness) dialogText() string {
	top := h.w.win.Canvas().Overlays().Top()
	if top == nil {
		return ""
	}
	return strings.Join(texts(top), "\n")
}

// dismissDialog taps the top dialog's button with this text.
func (h *harness) tapDialogButton(text string) {
	h.t.Helper()
	top := h.w.win.Canvas().Overlays().Top()
	if top == nil {
		h.t.Fatalf("no dialog open; want a %q button", text)
	}
	for _, o := range test.LaidOutObjects(top) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			test.Tap(b)
			return
		}
	}
	h.t.Fatalf("no %q button in the dialog:\n%s", text, h.dialogText())
}

// texts collects the visible text under o.
func texts(o fyne.CanvasObject) []string {
	var out []string
	for _, c := range test.LaidOutObjects(o) {
		if t, ok := c.(*canvas.Text); ok && t.Text != "" {
			out = append(out, t.Text)
		}
	}
	return out
}

var errImport = errors.New("garments: decode bad.png: image: unknown format")
