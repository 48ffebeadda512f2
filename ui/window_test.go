package ui

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"mgvton/capture"
)

func TestStartNoCameraPlaysDemoWithBanner(t *testing.T) {
	h := newHarness(t, newTestApp(t), newFakeEngine(false), newFakeCatalog(), Options{})
	if !h.eng.called("Open demo") {
		t.Errorf("engine calls %q; want Open demo", h.eng.calls)
	}
	if !h.w.banner.box.Visible() || !strings.Contains(h.w.banner.text.Text, noCameraText) {
		t.Errorf("banner visible=%v text %q; want %q", h.w.banner.box.Visible(), h.w.banner.text.Text, noCameraText)
	}
	if got, want := h.w.sourceSelect.Selected, "Demo clip"; got != want {
		t.Errorf("source picker shows %q; want %q", got, want)
	}
	if !h.w.mirror.Disabled() {
		t.Error("mirror toggle enabled for the demo clip; want disabled")
	}
	// Start state: first model and garment.
	if !h.eng.called("SetModel /models/s256") || !h.eng.called("SetGarment g1") {
		t.Errorf("engine calls %q; want SetModel /models/s256 and SetGarment g1", h.eng.calls)
	}
	// The fallback is not remembered: a camera plugged in later wins.
	if got := h.app.Preferences().String(prefSource); got != "" {
		t.Errorf("remembered source %q; want none", got)
	}
}

func TestStartWithCamera(t *testing.T) {
	h := newHarness(t, newTestApp(t), newFakeEngine(true), newFakeCatalog(), Options{})
	if !h.eng.called("Open cam:0") {
		t.Errorf("engine calls %q; want Open cam:0", h.eng.calls)
	}
	if h.w.banner.box.Visible() {
		t.Errorf("banner %q shown; want none with a camera", h.w.banner.text.Text)
	}
	if h.w.mirror.Disabled() || !h.eng.called("SetMirror true") {
		t.Errorf("mirror disabled=%v calls %q; want enabled and SetMirror true", h.w.mirror.Disabled(), h.eng.calls)
	}
}

func TestStartOptions(t *testing.T) {
	video := filepath.Join(t.TempDir(), "clip.mp4")
	h := newHarness(t, newTestApp(t), newFakeEngine(true), newFakeCatalog(),
		Options{StartSource: video, StartGarment: "g3", StartModel: "/models/s512"})
	for _, call := range []string{"Open " + video, "SetModel /models/s512", "SetGarment g3"} {
		if !h.eng.called(call) {
			t.Errorf("engine calls %q; want %q", h.eng.calls, call)
		}
	}
	if got, want := h.w.sourceSelect.Selected, "File: clip.mp4"; got != want {
		t.Errorf("source picker shows %q; want %q", got, want)
	}
	if got := h.w.picker.selected; got != "g3" {
		t.Errorf("selected garment %q; want g3", got)
	}
}

func TestGarmentSelection(t *testing.T) {
	h := newHarness(t, newTestApp(t), newFakeEngine(false), newFakeCatalog(), Options{})
	test.Tap(h.w.picker.cards["g3"])
	h.waitFor("SetGarment g3", func() bool { return h.eng.lastCall("SetGarment") == "SetGarment g3" })
	for id, c := range h.w.picker.cards {
		if want := id == "g3"; c.selected != want || c.check.Visible() != want {
			t.Errorf("card %s selected=%v badge=%v; want %v", id, c.selected, c.check.Visible(), want)
		}
	}
	if got := h.w.picker.cards["g3"].bg.StrokeColor; got != colorAccent {
		t.Errorf("selected card border %v; want the accent colour", got)
	}
	if got := h.app.Preferences().String(prefGarment); got != "g3" {
		t.Errorf("remembered garment %q; want g3", got)
	}
}

func TestFilterNarrowsGrid(t *testing.T) {
	h := newHarness(t, newTestApp(t), newFakeEngine(false), newFakeCatalog(), Options{})
	ids := func() (out []string) {
		for _, o := range h.w.picker.grid.Objects {
			out = append(out, o.(*garmentCard).item.ID)
		}
		return out
	}
	tests := []struct {
		search, category string
		want             string
	}{
		{"", allCategories, "g1 g2 g3 g4"},
		{"tee", allCategories, "g1 g2"},
		{"NAVY", allCategories, "g2"},
		{"summer", allCategories, "g3"}, // tags match too
		{"", "dresses", "g3"},
		{"tee", "dresses", ""},
		{"", "tops", "g1 g2"},
	}
	for _, tt := range tests {
		t.Run(tt.search+"/"+tt.category, func(t *testing.T) {
			h.w.picker.search.SetText("")
			test.Type(h.w.picker.search, tt.search)
			h.w.picker.category.SetSelected(tt.category)
			if got := strings.Join(ids(), " "); got != tt.want {
				t.Errorf("grid %q; want %q", got, tt.want)
			}
			if got, want := h.w.picker.empty.Visible(), tt.want == ""; got != want {
				t.Errorf("'no garment matches' visible=%v; want %v", got, want)
			}
		})
	}
	if got := h.w.picker.category.Options; strings.Join(got, ",") != allCategories+",dresses,outerwear,tops" {
		t.Errorf("categories %q; want All + sorted categories", got)
	}
}

func TestArrowKeysSwitchGarments(t *testing.T) {
	h := newHarness(t, newTestApp(t), newFakeEngine(false), newFakeCatalog(), Options{})
	steps := []struct {
		key  fyne.KeyName
		want string
	}{
		{fyne.KeyRight, "g2"},
		{fyne.KeyRight, "g3"},
		{fyne.KeyLeft, "g2"},
		{fyne.KeyLeft, "g1"},
		{fyne.KeyLeft, "g4"}, // wraps around
	}
	for _, s := range steps {
		h.key(s.key)
		if got := h.w.picker.selected; got != s.want {
			t.Fatalf("after %s selected %q; want %q", s.key, got, s.want)
		}
		h.waitFor("SetGarment "+s.want, func() bool { return h.eng.lastCall("SetGarment") == "SetGarment "+s.want })
	}
	// Keys move within the filtered grid only.
	h.w.picker.category.SetSelected("tops")
	h.key(fyne.KeyRight)
	if got := h.w.picker.selected; got != "g1" {
		t.Errorf("after → in tops selected %q; want g1", got)
	}
}

var clipName = regexp.MustCompile(`^mgvton-\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d(-\d+)?\.mp4$`)

// Space pressed again while the recorder is still opening (slow on a loaded
// machine) stops the clip once it is open instead of being ignored.
func TestStopPressedWhileStartingIsKept(t *testing.T) {
	a := newTestApp(t)
	a.Preferences().SetString(prefOutputDir, t.TempDir())
	eng := newFakeEngine(false)
	eng.recGate = make(chan struct{})
	h := newHarness(t, a, eng, newFakeCatalog(), Options{})

	h.key(fyne.KeySpace)
	h.waitFor("starting", func() bool { return h.w.rec == recStarting })
	h.key(fyne.KeySpace) // stop, while StartRecording still runs
	close(eng.recGate)
	h.waitFor("stopped after starting", func() bool { return h.w.rec == recIdle && eng.called("StopRecording") })
	if !h.w.savedBox.Visible() {
		t.Error("the clip stopped but no saved box is shown")
	}
}

func TestRecordStartStopShowsPath(t *testing.T) {
	a := newTestApp(t)
	out := filepath.Join(t.TempDir(), "clips") // created on demand
	a.Preferences().SetString(prefOutputDir, out)
	h := newHarness(t, a, newFakeEngine(false), newFakeCatalog(), Options{})

	test.Tap(h.w.recordBtn)
	h.waitFor("recording", func() bool { return h.w.rec == recOn })
	start := h.eng.lastCall("StartRecording")
	path := strings.TrimPrefix(start, "StartRecording ")
	if filepath.Dir(path) != out || !clipName.MatchString(filepath.Base(path)) {
		t.Fatalf("recording to %q; want %s/mgvton-YYYY-MM-DD_HH-MM-SS.mp4", path, out)
	}
	if !h.w.video.rec.box.Visible() || !strings.HasPrefix(h.w.video.rec.text.Text, "REC 00:0") {
		t.Errorf("REC indicator visible=%v text %q; want visible REC 00:0x", h.w.video.rec.box.Visible(), h.w.video.rec.text.Text)
	}
	if !strings.HasPrefix(h.w.recordBtn.Text, "Stop") {
		t.Errorf("record button says %q while recording; want Stop…", h.w.recordBtn.Text)
	}
	// Elapsed time follows the clock.
	since := h.w.recSince
	h.w.now = func() time.Time { return since.Add(75 * time.Second) }
	h.w.tickClock()
	if got := h.w.video.rec.text.Text; got != "REC 01:15" {
		t.Errorf("indicator %q after 75 s; want REC 01:15", got)
	}

	test.Tap(h.w.recordBtn)
	h.waitFor("stopped", func() bool { return h.w.rec == recIdle })
	if !h.eng.called("StopRecording") {
		t.Errorf("engine calls %q; want StopRecording", h.eng.calls)
	}
	if !h.w.savedBox.Visible() || !strings.Contains(h.w.savedLabel.Text, path) {
		t.Errorf("saved box visible=%v label %q; want it to show %q", h.w.savedBox.Visible(), h.w.savedLabel.Text, path)
	}
	if h.w.video.rec.box.Visible() || h.w.recordBtn.Text != "Record" {
		t.Errorf("after stop: indicator visible=%v button %q; want hidden, Record", h.w.video.rec.box.Visible(), h.w.recordBtn.Text)
	}
	// Open folder opens the clip's folder.
	h.w.openSavedFolder()
	if want := storage.NewFileURI(out).String(); len(h.app.opened) != 1 || h.app.opened[0] != want {
		t.Errorf("opened %q; want [%s]", h.app.opened, want)
	}
}

func TestSpaceTogglesRecording(t *testing.T) {
	a := newTestApp(t)
	a.Preferences().SetString(prefOutputDir, t.TempDir())
	h := newHarness(t, a, newFakeEngine(false), newFakeCatalog(), Options{})
	h.key(fyne.KeySpace)
	h.waitFor("recording", func() bool { return h.w.rec == recOn })
	h.key(fyne.KeySpace)
	h.waitFor("stopped", func() bool { return h.w.rec == recIdle })
	if !h.eng.called("StopRecording") {
		t.Errorf("engine calls %q; want StopRecording", h.eng.calls)
	}
}

func TestRecordFailureShowsError(t *testing.T) {
	a := newTestApp(t)
	a.Preferences().SetString(prefOutputDir, t.TempDir())
	eng := newFakeEngine(false)
	eng.setFail("StartRecording", errors.New("capture: open writer: no encoder"))
	h := newHarness(t, a, eng, newFakeCatalog(), Options{})
	h.key(fyne.KeySpace)
	h.settle()
	if got := h.dialogText(); !strings.Contains(got, "Could not start recording") || !strings.Contains(got, "no encoder") {
		t.Errorf("dialog %q; want the recording error", got)
	}
	if h.w.rec != recIdle || h.w.recordBtn.Disabled() {
		t.Errorf("state %v disabled=%v; want idle and usable", h.w.rec, h.w.recordBtn.Disabled())
	}
}

func TestOutputPathsNeverOverwrite(t *testing.T) {
	a := newTestApp(t)
	out := t.TempDir()
	a.Preferences().SetString(prefOutputDir, out)
	h := newHarness(t, a, newFakeEngine(false), newFakeCatalog(), Options{})
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.Local)
	h.w.now = func() time.Time { return at }
	if err := os.WriteFile(filepath.Join(out, "mgvton-2025-03-04_05-06-07.mp4"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 2 {
		p, err := h.w.newOutputPath(".mp4")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, filepath.Base(p))
	}
	want := []string{"mgvton-2025-03-04_05-06-07-2.mp4", "mgvton-2025-03-04_05-06-07-3.mp4"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("paths %q; want %q", got, want)
	}
}

func TestSnapshot(t *testing.T) {
	a := newTestApp(t)
	out := t.TempDir()
	a.Preferences().SetString(prefOutputDir, out)
	h := newHarness(t, a, newFakeEngine(false), newFakeCatalog(), Options{})
	test.Tap(h.w.snapBtn)
	h.settle()
	call := h.eng.lastCall("Snapshot")
	if !regexp.MustCompile(`^Snapshot .*/mgvton-[0-9_-]+\.png$`).MatchString(call) {
		t.Fatalf("engine call %q; want Snapshot <out>/mgvton-….png", call)
	}
	if !strings.Contains(h.w.savedLabel.Text, strings.TrimPrefix(call, "Snapshot ")) {
		t.Errorf("saved label %q; want the snapshot path", h.w.savedLabel.Text)
	}
}

func TestImportFailureShowsError(t *testing.T) {
	cat := newFakeCatalog()
	cat.importErr = errImport
	h := newHarness(t, newTestApp(t), newFakeEngine(false), cat, Options{})
	h.w.dropped(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI("/photos/bad.png")})
	if !h.w.jobBox.Visible() || !strings.Contains(h.w.jobLabel.Text, "Importing bad.png") {
		t.Errorf("progress visible=%v %q; want Importing bad.png…", h.w.jobBox.Visible(), h.w.jobLabel.Text)
	}
	h.settle()
	got := h.dialogText()
	for _, want := range []string{"Could not add bad.png", "unknown format", "PNG, JPEG or WebP"} {
		if !strings.Contains(got, want) {
			t.Errorf("dialog %q; want it to contain %q", got, want)
		}
	}
	if h.w.jobBox.Visible() {
		t.Error("progress still shown after the import ended")
	}
	if len(h.w.picker.items) != 4 {
		t.Errorf("%d garments after a failed import; want 4", len(h.w.picker.items))
	}
}

func TestImportShowsAndSelectsNewGarment(t *testing.T) {
	h := newHarness(t, newTestApp(t), newFakeEngine(false), newFakeCatalog(), Options{})
	h.w.picker.category.SetSelected("dresses") // the new one would be hidden
	h.w.dropped(fyne.Position{}, []fyne.URI{storage.NewFileURI("/photos/blue-shirt.png")})
	h.settle()
	if got := h.w.picker.selected; got != "user-blue-shirt" {
		t.Errorf("selected %q; want the imported user-blue-shirt", got)
	}
	if !h.eng.called("SetGarment user-blue-shirt") {
		t.Errorf("engine calls %q; want SetGarment user-blue-shirt", h.eng.calls)
	}
	if n := len(h.w.picker.grid.Objects); n != 5 {
		t.Errorf("grid shows %d cards; want 5 (filter cleared)", n)
	}
}

func TestDroppedVideoBecomesSource(t *testing.T) {
	h := newHarness(t, newTestApp(t), newFakeEngine(false), newFakeCatalog(), Options{})
	h.w.dropped(fyne.Position{}, []fyne.URI{storage.NewFileURI("/videos/walk.mp4")})
	h.settle()
	if !h.eng.called("Open /videos/walk.mp4") || h.w.sourceSelect.Selected != "File: walk.mp4" {
		t.Errorf("calls %q picker %q; want Open /videos/walk.mp4 shown as File: walk.mp4", h.eng.calls, h.w.sourceSelect.Selected)
	}
}

func TestEngineErrorKeepsRunning(t *testing.T) {
	h := newHarness(t, newTestApp(t), newFakeEngine(true), newFakeCatalog(), Options{})
	h.eng.errs <- errors.New("capture: camera cam:0 disconnected")
	h.waitFor("the error banner", func() bool { return h.w.banner.kind == bannerWarning })
	if got := h.w.banner.text.Text; !strings.Contains(got, "Capture: camera cam:0 disconnected") || !strings.Contains(got, "pick another source") {
		t.Errorf("banner %q; want the error and what to do", got)
	}
	// The sources are listed again and the demo is offered.
	h.waitFor("sources listed again", func() bool {
		h.eng.mu.Lock()
		defer h.eng.mu.Unlock()
		n := 0
		for _, c := range h.eng.calls {
			if c == "Sources" {
				n++
			}
		}
		return n >= 2
	})
	if !h.w.banner.action.Visible() || h.w.banner.action.Text != "Play demo clip" {
		t.Fatalf("banner action %q visible=%v; want Play demo clip", h.w.banner.action.Text, h.w.banner.action.Visible())
	}
	// Still running: frames are shown.
	h.eng.frames <- syntheticFrame(1, true)
	h.waitFor("a frame", func() bool { return h.w.video.frames == 1 })

	test.Tap(h.w.banner.action)
	h.settle()
	if h.eng.lastCall("Open") != "Open demo" || h.w.banner.box.Visible() {
		t.Errorf("last open %q banner visible=%v; want Open demo and no banner", h.eng.lastCall("Open"), h.w.banner.box.Visible())
	}
}

// A source that stops sending frames is reported like a lost camera, and
// the warning goes by itself when frames come again; other warnings stay.
func TestStallBannerGoesWhenFramesComeAgain(t *testing.T) {
	h := newHarness(t, newTestApp(t), newFakeEngine(true), newFakeCatalog(), Options{})
	h.eng.errs <- fmt.Errorf("no frames from camera 0 for 5 s: %w", capture.ErrStalled)
	h.waitFor("the stall banner", func() bool { return h.w.banner.kind == bannerWarning })
	if got := h.w.banner.text.Text; !strings.Contains(got, "No frames from camera 0 for 5 s") || !strings.Contains(got, "pick another source") {
		t.Errorf("banner %q; want the stall and what to do", got)
	}
	h.eng.frames <- syntheticFrame(1, true)
	h.waitFor("the banner gone after a frame", func() bool { return !h.w.banner.box.Visible() })

	h.eng.errs <- errors.New("capture: camera cam:0 disconnected")
	h.waitFor("the error banner", func() bool { return h.w.banner.kind == bannerWarning })
	h.eng.frames <- syntheticFrame(2, true)
	h.waitFor("a frame", func() bool { return h.w.video.frames == 2 })
	h.settle()
	if !h.w.banner.box.Visible() {
		t.Error("a lost camera's banner went away with the next frame; want it kept until the user acts")
	}
}

func TestOpenFailureOffersDemo(t *testing.T) {
	eng := newFakeEngine(true)
	eng.setFail("Open", errors.New("capture: open cam:0: device busy"))
	h := newHarness(t, newTestApp(t), eng, newFakeCatalog(), Options{})
	if h.w.banner.kind != bannerWarning || !strings.Contains(h.w.banner.text.Text, "Could not open HD Webcam") {
		t.Errorf("banner %q; want a warning that HD Webcam could not be opened", h.w.banner.text.Text)
	}
}

func TestEnginePanicIsReported(t *testing.T) {
	eng := newFakeEngine(false)
	h := newHarness(t, newTestApp(t), eng, newFakeCatalog(), Options{})
	eng.mu.Lock()
	eng.panicOn = "SetGarment"
	eng.mu.Unlock()
	h.key(fyne.KeyRight)
	h.settle()
	if got := h.dialogText(); !strings.Contains(got, "Could not use Navy tee") || !strings.Contains(got, "internal error") {
		t.Errorf("dialog %q; want the panic reported", got)
	}
}

func TestModelFailureKeepsPrevious(t *testing.T) {
	eng := newFakeEngine(false)
	h := newHarness(t, newTestApp(t), eng, newFakeCatalog(), Options{})
	eng.setFail("SetModel", errors.New("inference: manifest.json: missing input person"))
	eng.modelGap = 20 * time.Millisecond
	h.w.modelSelect.SetSelected("Student 512")
	if !h.w.jobBox.Visible() || !strings.Contains(h.w.jobLabel.Text, "Loading model Student 512") {
		t.Errorf("progress visible=%v %q; want Loading model Student 512…", h.w.jobBox.Visible(), h.w.jobLabel.Text)
	}
	h.settle()
	if got := h.dialogText(); !strings.Contains(got, "Could not load the model Student 512") || !strings.Contains(got, "manifest.json") {
		t.Errorf("dialog %q; want the model error", got)
	}
	if h.w.model != "/models/s256" || h.w.modelSelect.Selected != "Student 256" {
		t.Errorf("model %q picker %q; want the previous one back", h.w.model, h.w.modelSelect.Selected)
	}
}

func TestFramesShowWithHUD(t *testing.T) {
	h := newHarness(t, newTestApp(t), newFakeEngine(false), newFakeCatalog(), Options{})
	h.eng.frames <- syntheticFrame(7, false)
	h.waitFor("a frame", func() bool { return h.w.video.frames == 1 })
	v := h.w.video
	if v.try.img.Image == nil || v.cam.img.Image == nil {
		t.Fatal("panes show no picture after a frame")
	}
	if v.waiting.box.Visible() {
		t.Error("'Starting video' still shown after a frame")
	}
	if !v.noPerson.box.Visible() || !strings.Contains(h.w.statsLabel.Text, "no person in view") {
		t.Errorf("no-person pill visible=%v status %q; want both to say so", v.noPerson.box.Visible(), h.w.statsLabel.Text)
	}
	for _, want := range []string{"29.5 fps", "warp 3.2", "181 ms", "7 dropped", "pose 31 ms"} {
		if !strings.Contains(v.hud.text.Text, want) {
			t.Errorf("HUD %q; want %q", v.hud.text.Text, want)
		}
	}

	// No try-on yet: the camera picture stands in, with a hint.
	f := syntheticFrame(8, true)
	f.TryOn = nil
	h.eng.frames <- f
	h.waitFor("a second frame", func() bool { return h.w.video.frames == 2 })
	if !v.tryHint.box.Visible() || v.noPerson.box.Visible() {
		t.Errorf("hint visible=%v no-person visible=%v; want hint only", v.tryHint.box.Visible(), v.noPerson.box.Visible())
	}
}

func TestLiveImageReusesBuffer(t *testing.T) {
	l := newLiveImage()
	src := image.NewNRGBA(image.Rect(10, 10, 74, 58)) // not RGBA, offset origin
	if !l.set(src) {
		t.Error("first picture did not report a size change")
	}
	buf := l.img.Image
	if l.set(image.NewNRGBA(image.Rect(0, 0, 64, 48))) {
		t.Error("same size reported as a change")
	}
	if l.img.Image != buf {
		t.Error("conversion buffer not reused")
	}
	rgba := image.NewRGBA(image.Rect(0, 0, 64, 48))
	l.set(rgba)
	if l.img.Image != image.Image(rgba) {
		t.Error("*image.RGBA frame copied; want it shown as is")
	}
}

func TestDisplayLoopDropsStaleFrames(t *testing.T) {
	h := newHarness(t, newTestApp(t), newFakeEngine(false), newFakeCatalog(), Options{})
	// Nobody drains the UI queue: the loop must keep taking frames without
	// queueing more than one refresh.
	for i := range 20 {
		h.eng.frames <- syntheticFrame(i, true)
	}
	time.Sleep(3 * displayInterval)
	h.q.mu.Lock()
	queued := len(h.q.fns)
	h.q.mu.Unlock()
	if queued > 6 { // one frame + clock ticks
		t.Errorf("%d UI updates queued for 20 frames; want at most one frame in flight", queued)
	}
	h.waitFor("the newest frame", func() bool {
		return h.w.video.frames > 0 && h.w.video.shown.Stats.Dropped == 19
	})
	if h.w.video.frames > 3 {
		t.Errorf("showed %d of 20 burst frames; want stale ones dropped", h.w.video.frames)
	}
}

func TestSettingsPersist(t *testing.T) {
	a := newTestApp(t)
	out := filepath.Join(t.TempDir(), "my clips")
	video := filepath.Join(t.TempDir(), "walk.mp4")
	if err := os.WriteFile(video, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	h := newHarness(t, a, newFakeEngine(true), newFakeCatalog(), Options{})
	test.Tap(h.w.picker.cards["g3"])
	h.w.modelSelect.SetSelected("Student 512")
	h.w.mirror.SetChecked(false)
	h.w.setTryOnOnly(true)
	h.w.openSource(video, true)
	// Settings dialog: output folder and HUD.
	h.w.showSettings()
	h.w.settings.folder.SetText(out)
	h.w.settings.hud.SetChecked(false)
	h.tapDialogButton("Save")
	h.settle()
	h.close()

	eng := newFakeEngine(true)
	h2 := newHarness(t, a, eng, newFakeCatalog(), Options{})
	w := h2.w
	checks := []struct {
		what      string
		got, want any
	}{
		{"garment", w.picker.selected, "g3"},
		{"model", w.model, "/models/s512"},
		{"mirror", w.mirror.Checked, false},
		{"try-on only", w.tryOnOnly, true},
		{"source", w.source, video},
		{"output folder", w.outputDir(), out},
		{"HUD", w.hudOn, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s after restart: %v; want %v", c.what, c.got, c.want)
		}
	}
	for _, call := range []string{"Open " + video, "SetModel /models/s512", "SetGarment g3", "SetMirror false"} {
		if !eng.called(call) {
			t.Errorf("engine calls after restart %q; want %q", eng.calls, call)
		}
	}
}

func TestDefaultOutputDirIsVideos(t *testing.T) {
	h := newHarness(t, newTestApp(t), newFakeEngine(false), newFakeCatalog(), Options{})
	home, _ := os.UserHomeDir()
	got := h.w.outputDir()
	if !strings.HasPrefix(got, home) || !strings.HasSuffix(got, "Videos") {
		t.Errorf("default output folder %q; want the Videos folder under %s", got, home)
	}
	p, err := h.w.newOutputPath(".mp4")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Dir(p)); err != nil || !fi.IsDir() {
		t.Errorf("output folder not created on demand: %v", err)
	}
}

func TestCloseFinishesRecording(t *testing.T) {
	a := newTestApp(t)
	a.Preferences().SetString(prefOutputDir, t.TempDir())
	h := newHarness(t, a, newFakeEngine(false), newFakeCatalog(), Options{})
	h.key(fyne.KeySpace)
	h.waitFor("recording", func() bool { return h.w.rec == recOn })
	h.w.closeRequested()
	h.waitFor("the window to close", func() bool { return h.w.closed })
	if !h.eng.called("StopRecording") {
		t.Errorf("engine calls %q; want StopRecording before closing", h.eng.calls)
	}
	h.w.Close() // idempotent
}

func TestLaneKeepsLatest(t *testing.T) {
	w := &Window{}
	w.ctx, w.cancel = t.Context(), func() {}
	l := newLane(w, true)
	started, release := make(chan struct{}), make(chan struct{})
	var ran []int
	l.submit(func() { close(started); <-release; ran = append(ran, 0) })
	<-started
	for i := 1; i <= 5; i++ {
		l.submit(func() { ran = append(ran, i) })
	}
	close(release)
	w.wg.Wait()
	if len(ran) != 2 || ran[0] != 0 || ran[1] != 5 {
		t.Errorf("ran %v; want [0 5]", ran)
	}
}

func TestOutputName(t *testing.T) {
	at := time.Date(2025, 12, 31, 23, 59, 58, 0, time.UTC)
	for _, tt := range []struct {
		suffix int
		ext    string
		want   string
	}{
		{1, ".mp4", "mgvton-2025-12-31_23-59-58.mp4"},
		{2, ".mp4", "mgvton-2025-12-31_23-59-58-2.mp4"},
		{1, ".png", "mgvton-2025-12-31_23-59-58.png"},
	} {
		if got := outputName(at, tt.suffix, tt.ext); got != tt.want {
			t.Errorf("outputName(%d, %s) = %q; want %q", tt.suffix, tt.ext, got, tt.want)
		}
	}
}

// A snapshot cut off by a crash (its hidden partial file, complete but
// never renamed) is found when the window starts, renamed beside the name
// it was meant to have, and reported in the status bar.
func TestStartRecoversInterruptedSnapshot(t *testing.T) {
	a := newTestApp(t)
	out := t.TempDir()
	a.Preferences().SetString(prefOutputDir, out)
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 3))); err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(out, ".mgvton-2026-12-01_10-00-00.png.partial-4242.png")
	if err := os.WriteFile(partial, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, a, newFakeEngine(false), newFakeCatalog(), Options{})
	h.waitFor("recovery reported", func() bool { return h.w.savedBox.Visible() })
	want := filepath.Join(out, "mgvton-2026-12-01_10-00-00 (recovered).png")
	if got, err := os.ReadFile(want); err != nil || !bytes.Equal(got, buf.Bytes()) {
		t.Errorf("recovered snapshot %s: %v; want the partial's bytes", want, err)
	}
	if _, err := os.Stat(partial); err == nil {
		t.Errorf("partial %s still there", partial)
	}
	if !strings.Contains(h.w.savedLabel.Text, "Recovered an interrupted snapshot: "+want) {
		t.Errorf("status bar says %q; want it to name %s", h.w.savedLabel.Text, want)
	}
	h.w.openSavedFolder()
	if wantURI := storage.NewFileURI(out).String(); len(h.app.opened) != 1 || h.app.opened[0] != wantURI {
		t.Errorf("Open folder opened %q; want [%s]", h.app.opened, wantURI)
	}
}

// TestWindowReleasesReplacedFrames: a frame's images go back to the engine
// (Release) once a newer frame replaced them on screen, and not before.
func TestWindowReleasesReplacedFrames(t *testing.T) {
	eng := newFakeEngine(false)
	h := newHarness(t, newTestApp(t), eng, newFakeCatalog(), Options{})
	var released [3]atomic.Int32
	for i := range 3 {
		f := syntheticFrame(i, true)
		f.Release = func() { released[i].Add(1) }
		eng.frames <- f
		h.waitFor(fmt.Sprintf("frame %d shown", i), func() bool { return h.w.video.frames == i+1 })
	}
	h.settle()
	for i, want := range []int32{1, 1, 0} {
		if got := released[i].Load(); got != want {
			t.Errorf("frame %d released %d times; want %d", i, got, want)
		}
	}
}

// TestWindowAsksForPicturesThePanesShow: the window tells a DisplaySizer
// engine the panes' sizes in pixels, and asks again when a pane grows
// (try-on only) but not for the small changes a picture's own size makes.
func TestWindowAsksForPicturesThePanesShow(t *testing.T) {
	h := newHarness(t, newTestApp(t), newFakeEngine(false), newFakeCatalog(), Options{})
	h.eng.frames <- syntheticFrame(1, false)
	h.waitFor("a frame", func() bool { return h.w.video.frames == 1 })
	paneSizes := func() (cam, try image.Point) {
		s := h.w.win.Canvas().Scale()
		return pixels(h.w.video.cam.img.Size(), s), pixels(h.w.video.try.img.Size(), s)
	}
	cam, try := paneSizes()
	want := fmt.Sprintf("SetDisplaySize %dx%d %dx%d", cam.X, cam.Y, try.X, try.Y)
	h.waitFor(want, func() bool { return h.eng.lastCall("SetDisplaySize") == want })
	if cam.X < 200 || cam.X > 640 || try != cam {
		t.Errorf("side by side in a 1280-wide window: camera %v try-on %v; want two equal panes of 200-640 px", cam, try)
	}

	h.w.setTryOnOnly(true)
	h.settle()
	_, big := paneSizes()
	if big.X < 2*try.X*3/4 {
		t.Fatalf("try-on only: pane %v; want it much larger than %v", big, try)
	}
	got := h.eng.lastCall("SetDisplaySize")
	var c, tr image.Point
	if _, err := fmt.Sscanf(got, "SetDisplaySize %dx%d %dx%d", &c.X, &c.Y, &tr.X, &tr.Y); err != nil || tr != big {
		t.Errorf("try-on only: last SetDisplaySize %q; want the try-on pane %v", got, big)
	}

	// A pane one pixel smaller than asked for (a picture's rounded size)
	// asks nothing new; one that needs more does.
	if needsNew(image.Pt(460, 259), image.Pt(459, 259)) || !needsNew(image.Pt(460, 259), image.Pt(461, 259)) ||
		!needsNew(image.Pt(900, 500), image.Pt(400, 220)) {
		t.Error("needsNew: wrong hysteresis")
	}
}

// TestFiguresChangeTwiceASecond: the HUD and the status bar change their
// figures at most every figuresInterval (each new string costs Fyne a
// texture kept for a minute), but at once when a person comes or goes.
func TestFiguresChangeTwiceASecond(t *testing.T) {
	h := newHarness(t, newTestApp(t), newFakeEngine(false), newFakeCatalog(), Options{})
	show := func(n int, person bool) {
		h.w.showFrame(syntheticFrame(n, person))
	}
	show(1, true)
	hud, status := h.w.video.hud.text.Text, h.w.statsLabel.Text
	if !strings.Contains(hud, "1 dropped") || !strings.Contains(status, "1 dropped") {
		t.Fatalf("first frame: HUD %q status %q; want its figures", hud, status)
	}
	show(2, true)
	if h.w.video.hud.text.Text != hud || h.w.statsLabel.Text != status {
		t.Errorf("second frame at once: HUD %q status %q; want the first frame's figures kept", h.w.video.hud.text.Text, h.w.statsLabel.Text)
	}
	show(3, false)
	if !strings.Contains(h.w.statsLabel.Text, "no person in view") || !strings.Contains(h.w.statsLabel.Text, "3 dropped") {
		t.Errorf("person gone: status %q; want it said at once", h.w.statsLabel.Text)
	}
	h.w.figuresAt = h.w.figuresAt.Add(-figuresInterval)
	show(4, false)
	if !strings.Contains(h.w.video.hud.text.Text, "4 dropped") {
		t.Errorf("after %v: HUD %q; want the new figures", figuresInterval, h.w.video.hud.text.Text)
	}
}
