package ui

import (
	"fmt"
	"image"
	"image/draw"
	"math"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
)

// displayInterval caps the refresh rate of the video panes (30 Hz): frames
// arriving faster are coalesced, the newest wins.
const displayInterval = time.Second / 30

// liveImage is a canvas.Image that shows a stream of frames. The
// canvas.Image is reused for every frame; frames that are not *image.RGBA
// are converted into a buffer that is reused too. Touched on the UI
// goroutine only.
type liveImage struct {
	img *canvas.Image
	buf *image.RGBA
}

func newLiveImage() *liveImage {
	img := &canvas.Image{FillMode: canvas.ImageFillContain}
	// Fastest skips Fyne's CPU resampling of every frame: the GPU scales
	// (linear filtering), which keeps the UI goroutine free.
	img.ScaleMode = canvas.ImageScaleFastest
	return &liveImage{img: img}
}

// set shows src and reports whether the picture's size changed.
func (l *liveImage) set(src image.Image) (resized bool) {
	old := l.size()
	switch s := src.(type) {
	case nil:
		return false
	case *image.RGBA:
		if s.Rect.Min == (image.Point{}) {
			l.img.Image = s
			break
		}
		l.convert(src)
	default:
		l.convert(src)
	}
	l.img.Refresh()
	return l.size() != old
}

func (l *liveImage) convert(src image.Image) {
	b := src.Bounds()
	if l.buf == nil || l.buf.Rect.Size() != b.Size() {
		l.buf = image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	}
	draw.Draw(l.buf, l.buf.Rect, src, b.Min, draw.Src)
	l.img.Image = l.buf
}

func (l *liveImage) size() image.Point {
	if l.img.Image == nil {
		return image.Point{}
	}
	return l.img.Image.Bounds().Size()
}

// aspect is width/height of the current picture (4:3 before the first).
func (l *liveImage) aspect() float32 {
	if s := l.size(); s.X > 0 && s.Y > 0 {
		return float32(s.X) / float32(s.Y)
	}
	return 4.0 / 3
}

// fit returns the largest rectangle of the given aspect centred in (pos, size).
func fit(pos fyne.Position, size fyne.Size, aspect float32) (fyne.Position, fyne.Size) {
	w, h := size.Width, size.Width/aspect
	if h > size.Height {
		w, h = size.Height*aspect, size.Height
	}
	return pos.Add(fyne.NewPos((size.Width-w)/2, (size.Height-h)/2)), fyne.NewSize(w, h)
}

// videoLayout places the try-on pane (object 0) and the camera pane
// (object 1), each fitted to its picture so that the overlays sit on the
// picture: side by side, or the try-on large with the camera as an inset at
// its bottom right.
type videoLayout struct {
	try, cam *liveImage
	solo     bool
	// sized, when set, is told the panes' sizes after each layout.
	sized func(cam, try fyne.Size)
}

func (l *videoLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) < 2 {
		return
	}
	tryPane, camPane := objs[0], objs[1]
	pad := theme.Padding() * 2
	if l.solo {
		pos, sz := fit(fyne.NewPos(0, 0), size, l.try.aspect())
		tryPane.Move(pos)
		tryPane.Resize(sz)
		iw := fyne.Max(180, sz.Width*0.26)
		ih := iw / l.cam.aspect()
		camPane.Move(pos.Add(fyne.NewPos(sz.Width-iw-pad, sz.Height-ih-pad)))
		camPane.Resize(fyne.NewSize(iw, ih))
	} else {
		half := fyne.NewSize((size.Width-pad)/2, size.Height)
		pos, sz := fit(fyne.NewPos(0, 0), half, l.cam.aspect())
		camPane.Move(pos)
		camPane.Resize(sz)
		pos, sz = fit(fyne.NewPos(half.Width+pad, 0), half, l.try.aspect())
		tryPane.Move(pos)
		tryPane.Resize(sz)
	}
	if l.sized != nil {
		l.sized(camPane.Size(), tryPane.Size())
	}
}

// paneSizer turns pane sizes into the picture sizes asked of a
// DisplaySizer. It asks again only when a pane needs more pixels than
// asked for, or less than half of them, so that the small changes of a
// pane's size that follow a picture's (rounded) size never feed back into
// a new request.
type paneSizer struct {
	to    DisplaySizer
	scale func() float32 // canvas pixels per Fyne unit
	asked [2]image.Point // camera, try-on; zero before the first request
}

func (p *paneSizer) sized(cam, try fyne.Size) {
	s := p.scale()
	want := [2]image.Point{pixels(cam, s), pixels(try, s)}
	if want[0].X <= 0 || want[1].X <= 0 {
		return // not laid out yet
	}
	if !needsNew(p.asked[0], want[0]) && !needsNew(p.asked[1], want[1]) {
		return
	}
	p.asked = want
	p.to.SetDisplaySize(want[0], want[1])
}

// pixels is a pane's size in device pixels, rounded up.
func pixels(sz fyne.Size, scale float32) image.Point {
	return image.Pt(int(math.Ceil(float64(sz.Width*scale))), int(math.Ceil(float64(sz.Height*scale))))
}

// needsNew reports whether a pane that now needs want pixels should ask
// again after asking for asked: it needs more, or under half as many.
func needsNew(asked, want image.Point) bool {
	return want.X > asked.X || want.Y > asked.Y || 2*want.X < asked.X || 2*want.Y < asked.Y
}

func (l *videoLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(480, 240) }

// pill is a rounded translucent box for text over the video.
type pill struct {
	box  *fyne.Container
	text *canvas.Text
}

func newPill(s string, size float32, lead fyne.CanvasObject) *pill {
	t := canvas.NewText(s, colorOnVideo)
	t.TextSize = size
	bg := canvas.NewRectangle(colorOverlay)
	bg.CornerRadius = 8
	row := container.NewHBox(t)
	if lead != nil {
		row = container.NewHBox(lead, t)
	}
	return &pill{
		box:  container.NewStack(bg, container.New(layout.NewCustomPaddedLayout(3, 3, 8, 8), row)),
		text: t,
	}
}

// setText updates the pill's text, refreshing only when it changed.
func (p *pill) setText(s string) {
	if p.text.Text != s {
		p.text.Text = s
		p.text.Refresh()
	}
}

// videoView is the live view: the camera pane and the try-on pane with
// their overlays (captions, HUD, REC indicator, hints).
type videoView struct {
	cam, try *liveImage
	layout   *videoLayout
	box      *fyne.Container // the two panes, laid out by layout

	hud      *pill // display fps, warp fps, latency, dropped
	noPerson *pill // "No person in view"
	rec      *pill // red dot + elapsed time while recording
	waiting  *pill // on the camera pane until the first frame
	tryHint  *pill // on the try-on pane while there is no try-on picture

	frames int // frames shown
	// shown is the frame on screen: its images are released (given back
	// to the engine) when the next frame replaces them.
	shown Frame
}

func newVideoView() *videoView {
	v := &videoView{cam: newLiveImage(), try: newLiveImage()}
	v.layout = &videoLayout{try: v.try, cam: v.cam}

	v.hud = newPill("", 12, nil)
	v.hud.text.TextStyle.Monospace = true
	v.noPerson = newPill("No person in view — step in front of the camera", 14, widgetIcon(theme.WarningIcon()))
	v.noPerson.box.Hide()
	dot := canvas.NewCircle(colorRecord)
	v.rec = newPill("REC 00:00", 13, container.New(layout.NewCustomPaddedLayout(4, 4, 0, 0), container.NewGridWrap(fyne.NewSize(10, 10), dot)))
	v.rec.text.TextStyle.Bold = true
	v.rec.box.Hide()
	v.waiting = newPill("Starting video…", 14, nil)
	v.tryHint = newPill("Pick a garment to try it on", 14, nil)

	camPane := newPane(v.cam, "Camera",
		container.NewCenter(v.waiting.box))
	tryPane := newPane(v.try, "Try-on",
		container.NewCenter(container.NewVBox(v.tryHint.box, v.noPerson.box)),
		container.NewBorder(
			container.NewHBox(layout.NewSpacer(), v.rec.box), // top right
			container.NewHBox(v.hud.box),                     // bottom left
			nil, nil))
	v.box = container.New(v.layout, tryPane, camPane)
	return v
}

// newPane stacks a dark background, the picture, a caption and overlays.
func newPane(li *liveImage, caption string, overlays ...fyne.CanvasObject) *fyne.Container {
	bg := canvas.NewRectangle(colorVideoBG)
	bg.CornerRadius = 6
	label := newPill(caption, 12, nil)
	label.text.TextStyle.Bold = true
	objs := []fyne.CanvasObject{bg, li.img,
		container.NewPadded(container.NewVBox(container.NewHBox(label.box)))}
	for _, o := range overlays {
		objs = append(objs, container.NewPadded(o))
	}
	return container.NewStack(objs...)
}

// setSolo switches between side by side and the large try-on view.
func (v *videoView) setSolo(solo bool) {
	v.layout.solo = solo
	v.relayout()
}

func (v *videoView) relayout() {
	v.box.Layout.Layout(v.box.Objects, v.box.Size())
}

// show displays one frame, and its figures on the HUD when figures is
// set. UI goroutine only.
func (v *videoView) show(f Frame, hudOn, figures bool) {
	resized := v.cam.set(f.Camera)
	if f.TryOn != nil {
		resized = v.try.set(f.TryOn) || resized
		v.tryHint.box.Hide()
	} else {
		resized = v.try.set(f.Camera) || resized
		v.tryHint.box.Show()
	}
	v.shown.release()
	v.shown = f
	if v.frames == 0 {
		v.waiting.box.Hide()
	}
	v.frames++
	if resized {
		v.relayout()
	}
	setVisible(v.noPerson.box, !f.Stats.PersonFound && f.TryOn != nil)
	setVisible(v.hud.box, hudOn)
	if hudOn && (figures || v.hud.text.Text == "") {
		v.hud.setText(hudText(f.Stats))
	}
}

// hudText is the one-line summary of the figures on the video.
func hudText(s Stats) string {
	text := fmt.Sprintf("%.1f fps · warp %.1f fps · %.0f ms · %d dropped", s.DisplayFPS, s.WarpFPS, s.LatencyMS, s.Dropped)
	if s.PersonMS > 0 {
		text += fmt.Sprintf(" · pose %.0f ms", s.PersonMS)
	}
	return text
}

// setVisible shows or hides o, refreshing only on a change.
func setVisible(o fyne.CanvasObject, on bool) {
	if o.Visible() == on {
		return
	}
	if on {
		o.Show()
	} else {
		o.Hide()
	}
}

// runFrames is the window's display loop: it takes frames and errors from
// the engine and hands them to the UI goroutine, at most one frame in
// flight and one every displayInterval, always the newest. It ends when the
// window closes. Started by New, counted in w.wg.
func (w *Window) runFrames() {
	defer w.wg.Done()
	frames, errs := w.eng.Frames(), w.eng.Errors()
	painted := make(chan struct{}, 1) // one frame in flight, so never full
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	clock := time.NewTicker(250 * time.Millisecond)
	defer clock.Stop()

	var (
		pending  *Frame
		inFlight bool
		next     time.Time // earliest time of the next refresh
		wake     <-chan time.Time
	)
	post := func() {
		if pending == nil || inFlight {
			return
		}
		if d := time.Until(next); d > 0 {
			if wake == nil {
				timer.Reset(d)
				wake = timer.C
			}
			return
		}
		f := *pending
		pending, inFlight = nil, true
		next = time.Now().Add(displayInterval)
		w.do(func() {
			w.showFrame(f)
			painted <- struct{}{}
		})
	}
	for {
		select {
		case <-w.ctx.Done():
			return
		case f, ok := <-frames:
			if !ok {
				frames = nil
				continue
			}
			pending.release() // a frame still pending is stale: dropped
			pending = &f
			post()
		case <-painted:
			inFlight = false
			post()
		case <-wake:
			wake = nil
			post()
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			w.do(func() { w.engineError(err) })
		case <-clock.C:
			w.do(w.tickClock)
		}
	}
}
