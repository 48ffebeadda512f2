package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mgvton/capture"
)

// videoFileOption is the source picker's entry that opens a file dialog.
const videoFileOption = "Video file…"

// noCameraText is the banner shown when the app falls back to the demo.
const noCameraText = "No camera found — playing the demo clip"

// sourceLabel returns the picker label of a source spec.
func (w *Window) sourceLabel(spec string) string {
	for _, s := range w.allSources() {
		if s.Spec == spec {
			return s.Label
		}
	}
	return "File: " + filepath.Base(spec)
}

// allSources is the engine's sources plus the files opened in this run.
func (w *Window) allSources() []SourceItem {
	return append(slices.Clone(w.sources), w.files...)
}

func (w *Window) sourceItem(spec string) (SourceItem, bool) {
	for _, s := range w.allSources() {
		if s.Spec == spec {
			return s, true
		}
	}
	return SourceItem{}, false
}

func (w *Window) hasCamera() bool {
	return slices.ContainsFunc(w.sources, func(s SourceItem) bool { return s.Camera })
}

// updateSourceOptions refreshes the source picker's entries.
func (w *Window) updateSourceOptions() {
	var opts []string
	for _, s := range w.allSources() {
		opts = append(opts, s.Label)
	}
	w.sourceSelect.SetOptions(append(opts, videoFileOption))
	w.showSourceSelected()
}

// showSourceSelected shows the current source in the picker without
// triggering a change.
func (w *Window) showSourceSelected() {
	w.sourceSelect.OnChanged = nil
	w.sourceSelect.SetSelected(w.sourceLabel(w.source))
	w.sourceSelect.OnChanged = w.sourcePicked
}

// sourcePicked is the source picker's OnChanged.
func (w *Window) sourcePicked(label string) {
	if label == videoFileOption {
		w.showSourceSelected()
		w.chooseVideoFile()
		return
	}
	for _, s := range w.allSources() {
		if s.Label == label {
			w.openSource(s.Spec, true)
			return
		}
	}
}

// chooseVideoFile opens the file dialog of "Video file…".
func (w *Window) chooseVideoFile() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			w.showError("Could not open the file", err, "Pick a video file (MP4, MKV, AVI, MOV, WebM).")
			return
		}
		if r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		w.prefs.SetString(prefVideoDir, filepath.Dir(path))
		w.openSource(path, true)
	}, w.win)
	d.SetFilter(storage.NewExtensionFileFilter(videoExts))
	w.setDialogLocation(d, prefVideoDir)
	d.Resize(fyne.NewSize(820, 560))
	d.Show()
}

// openSource switches the stream to spec (a source of the engine or a
// video file path) in the background. remember stores it as the source to
// start with next time: true when the user chose it, false for fallbacks.
func (w *Window) openSource(spec string, remember bool) {
	if _, ok := w.sourceItem(spec); !ok {
		w.files = append(w.files, SourceItem{Label: "File: " + filepath.Base(spec), Spec: spec})
		w.updateSourceOptions()
	}
	item, _ := w.sourceItem(spec)
	w.source = spec
	w.showSourceSelected()
	if remember {
		w.prefs.SetString(prefSource, spec)
	}
	if item.Camera {
		w.mirror.Enable()
	} else {
		w.mirror.Disable()
	}
	w.updateStatusInfo()
	if w.banner.kind == bannerWarning {
		w.hideBanner()
	}
	job := w.startJob("Opening " + item.Label + "…")
	ctx := w.ctx
	w.call(w.sourceLane, "open source", func() error { return w.eng.Open(ctx, spec) }, func(err error) {
		w.endJob(job)
		if err == nil || errors.Is(err, ctx.Err()) {
			return
		}
		msg := fmt.Sprintf("Could not open %s: %v", item.Label, err)
		if spec == DemoSource {
			w.showError("Could not play the demo clip", err, "Reinstall the app's assets (make setup), or open a video file from the source list.")
			return
		}
		w.showBanner(bannerWarning, msg+" — pick another source.", "Play demo clip", func() { w.openSource(DemoSource, false) })
	})
}

// engineError shows a problem the engine reported while streaming (a lost
// camera...) and offers the other sources; the app keeps running.
func (w *Window) engineError(err error) {
	if err == nil {
		return
	}
	w.lastEngineErr = err
	var action func()
	label := ""
	if w.source != DemoSource {
		label, action = "Play demo clip", func() { w.openSource(DemoSource, false) }
	}
	w.showBanner(bannerWarning, capitalize(err.Error())+" — the app keeps running; pick another source.", label, action)
	w.banner.untilFrames = errors.Is(err, capture.ErrStalled) // the source stalled: over when it sends again
	// The cameras may have changed: list them again.
	var sources []SourceItem
	w.call(w.listLane, "list sources", func() error {
		sources = w.eng.Sources()
		return nil
	}, func(err error) {
		if err == nil {
			w.sources = sources
			w.updateSourceOptions()
		}
	})
}

// Models.

// modelLabel returns the picker label of a model dir.
func (w *Window) modelLabel(dir string) string {
	for _, m := range w.models {
		if m.Dir == dir {
			return m.Label
		}
	}
	return filepath.Base(dir)
}

func (w *Window) updateModelOptions() {
	var opts []string
	for _, m := range w.models {
		opts = append(opts, m.Label)
	}
	w.modelSelect.SetOptions(opts)
	if len(opts) == 0 {
		w.modelSelect.PlaceHolder = "No model installed"
		w.modelSelect.Disable()
	} else {
		w.modelSelect.Enable()
	}
	w.showModelSelected(w.model)
}

func (w *Window) showModelSelected(dir string) {
	w.modelSelect.OnChanged = nil
	if dir == "" {
		w.modelSelect.ClearSelected()
	} else {
		w.modelSelect.SetSelected(w.modelLabel(dir))
	}
	w.modelSelect.OnChanged = w.modelPicked
}

func (w *Window) modelPicked(label string) {
	for _, m := range w.models {
		if m.Label == label {
			w.setModel(m.Dir)
			return
		}
	}
}

// setModel loads the model in dir in the background with progress; on
// failure the previous model stays selected.
func (w *Window) setModel(dir string) {
	if !slices.ContainsFunc(w.models, func(m ModelItem) bool { return m.Dir == dir }) {
		w.models = append(w.models, ModelItem{Label: filepath.Base(dir), Dir: dir})
		w.updateModelOptions()
	}
	prev := w.model
	w.model = dir
	w.showModelSelected(dir)
	w.updateStatusInfo()
	label := w.modelLabel(dir)
	job := w.startJob("Loading model " + label + "…")
	w.video.tryHint.setText("Loading model…")
	w.call(w.modelLane, "load model", func() error { return w.eng.SetModel(dir) }, func(err error) {
		w.endJob(job)
		w.video.tryHint.setText("Pick a garment to try it on")
		if err != nil {
			if w.model == dir { // not replaced by a newer choice meanwhile
				w.model = prev
				w.showModelSelected(prev)
				w.updateStatusInfo()
			}
			w.showError("Could not load the model "+label, err,
				"Pick another model. A model folder needs manifest.json and the ONNX graphs it names (see models/).")
			return
		}
		w.prefs.SetString(prefModel, dir)
	})
}

// Banner.

type bannerKind int

const (
	bannerNone bannerKind = iota
	bannerInfo
	bannerWarning
)

// banner is the strip under the toolbar for news that needs no answer: no
// camera, camera lost.
type banner struct {
	kind   bannerKind
	box    *fyne.Container
	bg     *canvas.Rectangle
	icon   *widget.Icon
	text   *widget.Label
	action *widget.Button
	// untilFrames: the banner says the source stopped sending frames, and
	// goes when a frame is shown again.
	untilFrames bool
}

func newBanner(w *Window) *banner {
	b := &banner{}
	b.bg = canvas.NewRectangle(colorInfo)
	b.bg.CornerRadius = 6
	b.icon = widget.NewIcon(theme.InfoIcon())
	b.text = widget.NewLabel("")
	b.text.Wrapping = fyne.TextWrapWord
	b.action = widget.NewButton("", nil)
	closeBtn := widget.NewButtonWithIcon("", theme.CancelIcon(), w.hideBanner)
	closeBtn.Importance = widget.LowImportance
	row := container.NewBorder(nil, nil, b.icon, container.NewHBox(b.action, closeBtn), b.text)
	b.box = container.New(layout.NewCustomPaddedLayout(0, 0, theme.Padding()*2, theme.Padding()*2),
		container.NewStack(b.bg, container.NewPadded(row)))
	b.box.Hide()
	return b
}

// showBanner shows text with an optional action button.
func (w *Window) showBanner(kind bannerKind, text, actionLabel string, action func()) {
	b := w.banner
	b.kind = kind
	b.untilFrames = false
	if kind == bannerWarning {
		b.bg.FillColor = colorWarning
		b.icon.SetResource(theme.WarningIcon())
	} else {
		b.bg.FillColor = colorInfo
		b.icon.SetResource(theme.InfoIcon())
	}
	b.bg.Refresh()
	b.text.SetText(text)
	if action != nil {
		b.action.SetText(actionLabel)
		b.action.OnTapped = action
		b.action.Show()
	} else {
		b.action.Hide()
	}
	b.box.Show()
}

func (w *Window) hideBanner() {
	w.banner.kind = bannerNone
	w.banner.untilFrames = false
	w.banner.box.Hide()
}
