package ui

import (
	"context"
	"fmt"
	"image/color"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Window is mgvton's main window. Create it with New, run it with
// ShowAndRun. Its fields are touched on the UI goroutine only, except the
// lanes and the wait group.
type Window struct {
	app   fyne.App
	win   fyne.Window
	eng   Engine
	cat   Catalog
	prefs fyne.Preferences

	// do runs a function on the UI goroutine without waiting: fyne.Do;
	// tests substitute a queue they drain.
	do  func(func())
	now func() time.Time

	// Background work: ctx ends with the window; wg counts its goroutines.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// One lane per kind of engine call, so that calls of a kind never
	// overlap and the newest choice wins.
	sourceLane, modelLane, garmentLane, recordLane, importLane, listLane *lane

	// State.
	sources    []SourceItem // from the engine
	files      []SourceItem // video files opened in this run
	source     string       // current source spec
	models     []ModelItem
	model      string // current model dir
	garmentSet bool   // SetGarment was asked for the highlighted garment
	hudOn      bool
	tryOnOnly  bool
	rec        recState
	recSince   time.Time
	// stopAfterStart: Record was pressed again while recording was starting.
	stopAfterStart bool
	reserved       map[string]bool // output paths handed out in this run
	defaultDir     string          // cached Videos folder
	savedPath      string          // last clip or snapshot written
	jobs           []job           // long work in progress, newest last
	jobSeq         int
	closed         bool
	// lastEngineErr is the last error the engine reported (for tests).
	lastEngineErr error

	// Widgets.
	video        *videoView
	picker       *picker
	banner       *banner
	sourceSelect *widget.Select
	modelSelect  *widget.Select
	mirror       *widget.Check
	viewBtn      *widget.Button
	recordBtn    *widget.Button
	snapBtn      *widget.Button
	statusInfo   *canvas.Text
	statsLabel   *canvas.Text
	// figuresAt is when the HUD and statsLabel last changed their figures
	// (at most every figuresInterval), figuresNoPerson what they said
	// about the person then.
	figuresAt       time.Time
	figuresNoPerson bool
	jobBar          *widget.ProgressBarInfinite
	jobLabel        *widget.Label
	jobBox          *fyne.Container
	savedLabel      *widget.Label
	savedBox        *fyne.Container
	settings        *settingsDialog // open settings dialog, nil when closed
}

// job is a piece of long work shown in the status bar.
type job struct {
	id   int
	text string
}

// New builds the window on app a and starts it: it lists sources, models
// and garments, opens the start source and loads the start model and
// garment in the background (Options first, then what the user had last
// time, then defaults: first camera, else the demo clip with a banner).
// Call it on the UI goroutine (before a.Run, or inside fyne.Do).
//
// The window sets the app's icon and theme. It does not own eng: close the
// engine after ShowAndRun (or Close) returns.
func New(a fyne.App, eng Engine, cat Catalog, opts Options) *Window {
	return newWindow(a, eng, cat, opts, fyne.Do)
}

func newWindow(a fyne.App, eng Engine, cat Catalog, opts Options, do func(func())) *Window {
	w := &Window{
		app:      a,
		eng:      eng,
		cat:      cat,
		prefs:    a.Preferences(),
		do:       do,
		now:      time.Now,
		reserved: map[string]bool{},
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.sourceLane = newLane(w, true)
	w.modelLane = newLane(w, true)
	w.garmentLane = newLane(w, true)
	w.listLane = newLane(w, true)
	w.recordLane = newLane(w, false)
	w.importLane = newLane(w, false)

	a.SetIcon(Icon)
	a.Settings().SetTheme(appTheme{})
	w.win = a.NewWindow("mgvton — virtual try-on")
	w.win.SetIcon(Icon)
	w.build()
	w.win.Resize(fyne.NewSize(1280, 800))
	w.win.SetOnDropped(w.dropped)
	w.win.Canvas().SetOnTypedKey(w.typedKey)
	w.win.SetCloseIntercept(w.closeRequested)
	w.win.SetOnClosed(w.stop)

	w.start(opts)
	w.wg.Add(1)
	go w.runFrames()
	return w
}

// ShowAndRun shows the window and runs the app until the window closes,
// then waits for the window's goroutines to end (a clip being recorded is
// finished first).
func (w *Window) ShowAndRun() {
	w.win.ShowAndRun()
	w.stop()
	w.wg.Wait()
}

// Close closes the window and waits for its goroutines to end: engine
// calls in flight finish first. Call it on the UI goroutine; it is
// idempotent.
func (w *Window) Close() {
	if !w.closed {
		w.win.Close()
	}
	w.stop()
	w.wg.Wait()
}

// stop ends the background work; the window is closed or closing.
func (w *Window) stop() {
	w.closed = true
	w.cancel()
}

// closeRequested finishes a recording before the window closes.
func (w *Window) closeRequested() {
	if w.rec == recOn {
		w.stopRecording(func() { w.win.Close() })
		return
	}
	w.win.Close()
}

// build makes the widgets and lays them out.
func (w *Window) build() {
	w.video = newVideoView()
	if ds, ok := w.eng.(DisplaySizer); ok {
		ps := &paneSizer{to: ds, scale: func() float32 { return w.win.Canvas().Scale() }}
		w.video.layout.sized = ps.sized
	}
	w.picker = newPicker(w)
	w.banner = newBanner(w)

	// Toolbar.
	logo := canvas.NewImageFromResource(Icon)
	logo.SetMinSize(fyne.NewSize(28, 28))
	brand := canvas.NewText("mgvton", theme.Color(theme.ColorNameForeground))
	brand.TextStyle.Bold = true
	brand.TextSize = 18

	w.sourceSelect = widget.NewSelect(nil, nil)
	w.sourceSelect.PlaceHolder = "Choose a source"
	w.modelSelect = widget.NewSelect(nil, nil)
	w.modelSelect.PlaceHolder = "Choose a model"
	w.mirror = widget.NewCheck("Mirror", w.setMirror)
	w.viewBtn = widget.NewButtonWithIcon("", theme.ViewFullScreenIcon(), func() { w.setTryOnOnly(!w.tryOnOnly) })
	w.viewBtn.Importance = widget.LowImportance
	w.snapBtn = widget.NewButtonWithIcon("Snapshot", theme.MediaPhotoIcon(), w.snapshot)
	w.recordBtn = widget.NewButtonWithIcon("Record", theme.MediaRecordIcon(), w.toggleRecording)
	w.recordBtn.Importance = widget.DangerImportance
	settingsBtn := widget.NewButtonWithIcon("", theme.SettingsIcon(), w.showSettings)
	settingsBtn.Importance = widget.LowImportance

	left := container.NewHBox(
		container.NewCenter(logo), container.NewCenter(brand), gap(12),
		labelled(theme.MediaVideoIcon(), minWidth(230, w.sourceSelect)),
		labelled(theme.ComputerIcon(), minWidth(230, w.modelSelect)),
		w.mirror,
		w.viewBtn,
	)
	right := container.NewHBox(w.snapBtn, minWidth(124, w.recordBtn), settingsBtn)
	toolbar := container.New(layout.NewCustomPaddedLayout(6, 6, 10, 10),
		container.NewBorder(nil, nil, left, right))
	toolbarBG := canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))

	// Status bar.
	w.statusInfo = subtleText("", 13)
	w.statsLabel = subtleText("", 12)
	w.statsLabel.TextStyle.Monospace = true
	w.jobBar = widget.NewProgressBarInfinite()
	w.jobBar.Stop()
	w.jobLabel = widget.NewLabel("")
	w.jobBox = container.NewHBox(container.NewCenter(container.NewGridWrap(fyne.NewSize(96, 6), w.jobBar)), w.jobLabel)
	w.jobBox.Hide()
	w.savedLabel = widget.NewLabel("")
	w.savedLabel.Truncation = fyne.TextTruncateEllipsis
	openBtn := widget.NewButtonWithIcon("Open folder", theme.FolderOpenIcon(), w.openSavedFolder)
	openBtn.Importance = widget.LowImportance
	w.savedBox = container.NewBorder(nil, nil, widget.NewIcon(theme.ConfirmIcon()), openBtn, w.savedLabel)
	w.savedBox.Hide()
	status := container.NewBorder(nil, nil,
		container.NewHBox(gap(4), container.NewCenter(w.statusInfo), gap(8), w.jobBox),
		container.NewHBox(container.NewCenter(w.statsLabel), gap(4)),
		w.savedBox)
	statusBG := canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))

	// Garment panel on the right.
	panelBG := canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))
	panel := minWidth(318, container.NewStack(panelBG, container.New(layout.NewCustomPaddedLayout(8, 8, 8, 8), w.picker.box)))

	videoArea := container.New(layout.NewCustomPaddedLayout(12, 12, 12, 12), w.video.box)
	top := container.NewVBox(container.NewStack(toolbarBG, toolbar), w.banner.box)
	w.win.SetContent(container.NewBorder(
		top,
		container.NewStack(statusBG, container.New(layout.NewCustomPaddedLayout(0, 0, 8, 8), status)),
		nil,
		panel,
		videoArea,
	))
}

// start lists what there is and opens the start state.
func (w *Window) start(opts Options) {
	w.safely("list sources", func() { w.sources = w.eng.Sources() })
	w.safely("list models", func() { w.models = w.eng.Models() })
	var garments []GarmentItem
	w.safely("list garments", func() { garments = w.cat.List() })

	w.hudOn = w.prefs.BoolWithFallback(prefHUD, true)
	w.setTryOnOnly(w.prefs.Bool(prefTryOnOnly))
	w.mirror.OnChanged = nil
	w.mirror.SetChecked(w.prefs.BoolWithFallback(prefMirror, true))
	w.mirror.OnChanged = w.setMirror
	w.safely("set mirror", func() { w.eng.SetMirror(w.mirror.Checked) })

	// Source: flag, last one if still there, first camera, demo.
	src := opts.StartSource
	if src == "" {
		if last := w.prefs.String(prefSource); last != "" && w.sourceAvailable(last) {
			src = last
		}
	}
	if src == "" {
		src = DemoSource
		if i := slices.IndexFunc(w.sources, func(s SourceItem) bool { return s.Camera }); i >= 0 {
			src = w.sources[i].Spec
		}
	}
	w.source = src
	w.updateSourceOptions()
	w.openSource(src, opts.StartSource != "")
	if src == DemoSource && !w.hasCamera() {
		w.showBanner(bannerInfo, noCameraText+". Connect a webcam and pick it in the source list, or open a video file.", "", nil)
	}

	// Model: flag, last one, first one.
	model := opts.StartModel
	if model == "" {
		if last := w.prefs.String(prefModel); slices.ContainsFunc(w.models, func(m ModelItem) bool { return m.Dir == last }) {
			model = last
		} else if len(w.models) > 0 {
			model = w.models[0].Dir
		}
	}
	w.updateModelOptions()
	if model != "" {
		w.setModel(model)
	} else {
		w.video.tryHint.setText("No model installed — add one under models/")
	}

	// Garment: flag, last one, first one.
	w.picker.setItems(garments)
	id := opts.StartGarment
	if _, ok := w.picker.item(id); !ok {
		id = w.prefs.String(prefGarment)
	}
	if _, ok := w.picker.item(id); !ok {
		id = ""
		if len(garments) > 0 {
			id = garments[0].ID
		}
	}
	if opts.StartGarment != "" && id != opts.StartGarment {
		w.showError("Garment not found", fmt.Errorf("no garment with id %q in the catalog", opts.StartGarment),
			"Pick one in the list on the right, or add it with Add garment….")
	}
	w.selectGarment(id, false)
	w.updateStatusInfo()
	w.recoverInterrupted()
}

// sourceAvailable reports whether a remembered source can be opened now.
func (w *Window) sourceAvailable(spec string) bool {
	if _, ok := w.sourceItem(spec); ok {
		return true
	}
	if strings.HasPrefix(spec, "cam:") || strings.HasPrefix(spec, "/dev/") {
		return false // a camera that is gone
	}
	_, err := os.Stat(spec)
	return err == nil
}

// setMirror is the mirror toggle's OnChanged.
func (w *Window) setMirror(on bool) {
	w.prefs.SetBool(prefMirror, on)
	w.safely("set mirror", func() { w.eng.SetMirror(on) })
}

// setTryOnOnly switches between side by side and the large try-on.
func (w *Window) setTryOnOnly(on bool) {
	w.tryOnOnly = on
	w.prefs.SetBool(prefTryOnOnly, on)
	w.video.setSolo(on)
	if on {
		w.viewBtn.SetIcon(theme.ViewRestoreIcon())
		w.viewBtn.SetText("Side by side")
	} else {
		w.viewBtn.SetIcon(theme.ViewFullScreenIcon())
		w.viewBtn.SetText("Try-on only")
	}
}

// setHUD shows or hides the performance overlay.
func (w *Window) setHUD(on bool) {
	w.hudOn = on
	w.prefs.SetBool(prefHUD, on)
	setVisible(w.video.hud.box, on && w.video.frames > 0)
}

// typedKey handles keys nobody focused took: ← → switch garments, space
// records.
func (w *Window) typedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyLeft:
		w.stepGarment(-1)
	case fyne.KeyRight:
		w.stepGarment(+1)
	case recordKey:
		w.toggleRecording()
	}
}

// figuresInterval is how often the HUD and the status bar change their
// figures: twice a second is as fast as anyone reads them. Fyne keeps a
// GL texture for every distinct string it drew for a minute; at 30 changes
// a second on two labels that was thousands of textures, tens of MB.
const figuresInterval = 500 * time.Millisecond

// showFrame displays a frame from the engine.
func (w *Window) showFrame(f Frame) {
	if w.closed {
		f.release()
		return
	}
	now := time.Now()
	noPerson := !f.Stats.PersonFound && f.TryOn != nil
	figures := now.Sub(w.figuresAt) >= figuresInterval || noPerson != w.figuresNoPerson
	w.video.show(f, w.hudOn, figures)
	if w.banner.untilFrames {
		w.hideBanner() // the stalled source sends frames again
	}
	if !figures {
		return
	}
	w.figuresAt, w.figuresNoPerson = now, noPerson
	text := hudText(f.Stats)
	if noPerson {
		text += " · no person in view"
	}
	if w.statsLabel.Text != text {
		w.statsLabel.Text = text
		w.statsLabel.Refresh()
	}
}

// updateStatusInfo shows the source and model in the status bar.
func (w *Window) updateStatusInfo() {
	parts := []string{w.sourceLabel(w.source)}
	if w.model != "" {
		parts = append(parts, w.modelLabel(w.model))
	}
	w.statusInfo.Text = strings.Join(parts, " · ")
	w.statusInfo.Refresh()
}

// startJob shows long work in the status bar; endJob removes it.
func (w *Window) startJob(text string) int {
	w.jobSeq++
	w.jobs = append(w.jobs, job{w.jobSeq, text})
	w.showJobs()
	return w.jobSeq
}

func (w *Window) endJob(id int) {
	w.jobs = slices.DeleteFunc(w.jobs, func(j job) bool { return j.id == id })
	w.showJobs()
}

func (w *Window) showJobs() {
	if len(w.jobs) == 0 {
		w.jobBar.Stop()
		w.jobBox.Hide()
		return
	}
	w.jobLabel.SetText(w.jobs[len(w.jobs)-1].text)
	if !w.jobBox.Visible() {
		w.jobBox.Show()
		w.jobBar.Start()
	}
}

// showError shows err in a dialog with what to do about it.
func (w *Window) showError(title string, err error, hint string) {
	slog.Warn("ui: "+title, "err", err)
	if w.closed {
		return
	}
	msg := widget.NewLabel(capitalize(err.Error()) + ".")
	msg.Wrapping = fyne.TextWrapWord
	msg.TextStyle.Bold = true
	help := widget.NewLabel(hint)
	help.Wrapping = fyne.TextWrapWord
	content := container.NewVBox(msg, help)
	d := dialog.NewCustom(title, "OK", content, w.win)
	d.SetIcon(theme.ErrorIcon())
	d.Resize(fyne.NewSize(460, 0))
	d.Show()
}

// capitalize makes an error string read as a sentence.
func capitalize(s string) string {
	s = strings.TrimSuffix(s, ".")
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// Layout helpers.

// minWidthLayout gives its objects at least a given width.
type minWidthLayout struct{ width float32 }

func (l minWidthLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (l minWidthLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	s.Width = fyne.Max(s.Width, l.width)
	return s
}

func minWidth(w float32, o fyne.CanvasObject) *fyne.Container {
	return container.New(minWidthLayout{w}, o)
}

// labelled puts an icon in front of a control.
func labelled(icon fyne.Resource, o fyne.CanvasObject) fyne.CanvasObject {
	return container.NewBorder(nil, nil, widget.NewIcon(icon), nil, o)
}

// gap is horizontal space of width w.
func gap(w float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(w, 1))
	return r
}

// subtleText is secondary text (status bar, counts, hints).
func subtleText(s string, size float32) *canvas.Text {
	t := canvas.NewText(s, colorSubtle)
	t.TextSize = size
	return t
}

func widgetIcon(r fyne.Resource) fyne.CanvasObject { return widget.NewIcon(r) }
