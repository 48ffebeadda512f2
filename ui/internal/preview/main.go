// Command preview opens mgvton's window on a fake engine and catalog, to
// look at the UI without a camera or a model:
//
//	go run ./ui/internal/preview [-record] [-solo] [-camera] [-lost 3s]
//
// The engine draws a synthetic person swaying in a room; the try-on paints
// the selected garment's colour on the torso. Under Xvfb:
//
//	xvfb-run -a -s "-screen 0 1280x800x24" go run ./ui/internal/preview &
//	sleep 20; import -window root /tmp/shot.png
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"mgvton/ui"
)

func main() {
	record := flag.Bool("record", false, "start recording after a second")
	solo := flag.Bool("solo", false, "start in the large try-on view")
	camera := flag.Bool("camera", false, "pretend a webcam is connected")
	lost := flag.Duration("lost", 0, "report the camera lost after this long (0: never)")
	noPerson := flag.Bool("noperson", false, "report no person in view")
	flag.Parse()

	a := app.NewWithID("io.mgvton.preview")
	a.Preferences().SetBool("tryOnOnly", *solo)
	eng := newEngine(*camera, *noPerson)
	defer eng.Close()
	cat := newCatalog()
	w := ui.New(a, eng, cat, ui.Options{})
	go func() {
		if *record {
			time.Sleep(time.Second)
			fyne.Do(func() { pressSpace(a) })
		}
		if *lost > 0 {
			time.Sleep(*lost)
			eng.errs <- errors.New("camera HD Webcam (cam:0) disconnected")
		}
	}()
	w.ShowAndRun()
}

// pressSpace sends the space bar to the window (starts recording).
func pressSpace(a fyne.App) {
	for _, w := range a.Driver().AllWindows() {
		if f := w.Canvas().OnTypedKey(); f != nil {
			f(&fyne.KeyEvent{Name: fyne.KeySpace})
		}
	}
}

// engine is a fake ui.Engine drawing synthetic frames at 30 fps.
type engine struct {
	camera, noPerson bool
	frames           chan ui.Frame
	errs             chan error

	mu      sync.Mutex
	garment color.RGBA
	mirror  bool
	rec     string

	stop context.CancelFunc
	done chan struct{}
}

func newEngine(camera, noPerson bool) *engine {
	e := &engine{camera: camera, noPerson: noPerson,
		frames: make(chan ui.Frame, 1), errs: make(chan error, 1),
		garment: color.RGBA{200, 60, 80, 255}, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	e.stop = cancel
	go e.run(ctx)
	return e
}

func (e *engine) Close() error { e.stop(); <-e.done; return nil }

func (e *engine) Sources() []ui.SourceItem {
	s := []ui.SourceItem{{Label: "Demo clip", Spec: ui.DemoSource}}
	if e.camera {
		s = append([]ui.SourceItem{{Label: "HD Webcam", Spec: "cam:0", Camera: true}}, s...)
	}
	return s
}

func (e *engine) Models() []ui.ModelItem {
	return []ui.ModelItem{
		{Label: "MG-VTON student 256×192", Dir: "models/mg-vton-256"},
		{Label: "MG-VTON student 512×384", Dir: "models/mg-vton-512"},
	}
}

func (e *engine) Open(ctx context.Context, source string) error { return nil }
func (e *engine) SetModel(dir string) error                     { time.Sleep(1500 * time.Millisecond); return nil }
func (e *engine) SetMirror(on bool)                             { e.mu.Lock(); e.mirror = on; e.mu.Unlock() }
func (e *engine) Frames() <-chan ui.Frame                       { return e.frames }
func (e *engine) Errors() <-chan error                          { return e.errs }

func (e *engine) SetGarment(id string) error {
	for _, g := range garments {
		if g.id == id {
			e.mu.Lock()
			e.garment = g.c
			e.mu.Unlock()
			return nil
		}
	}
	return fmt.Errorf("no garment %q", id)
}

func (e *engine) StartRecording(path string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rec = path
	return os.WriteFile(path, nil, 0o644)
}

func (e *engine) StopRecording() (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.rec
	e.rec = ""
	return p, nil
}

func (e *engine) Snapshot(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, e.draw(0, true)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (e *engine) run(ctx context.Context) {
	defer close(e.done)
	t := time.NewTicker(time.Second / 30)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s := now.Sub(start).Seconds()
			f := ui.Frame{Camera: e.draw(s, false), TryOn: e.draw(s, true), Stats: ui.Stats{
				DisplayFPS: 29.7 + 0.3*math.Sin(s), WarpFPS: 3.1 + 0.2*math.Sin(s/3),
				LatencyMS: 182 + 9*math.Sin(s*1.7), Dropped: int64(s * 2), PersonFound: !e.noPerson}}
			select { // latest value: replace a frame nobody took
			case e.frames <- f:
			default:
				select {
				case <-e.frames:
				default:
				}
				e.frames <- f
			}
		}
	}
}

// draw paints the synthetic scene at time s: a room, a person swaying;
// with tryOn the torso wears the garment colour with soft stripes.
func (e *engine) draw(s float64, tryOn bool) *image.RGBA {
	const W, H = 640, 480
	e.mu.Lock()
	g := e.garment
	e.mu.Unlock()
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	cx := W/2 + 40*math.Sin(s*0.8)
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			fx, fy := float64(x), float64(y)
			// wall and floor
			r, gg, b := 70+fy/12, 78+fy/10, 92+fy/9
			if y > H*3/4 {
				r, gg, b = 92, 80, 70
			}
			// window light
			if x > 470 && x < 600 && y > 60 && y < 230 {
				r, gg, b = r+60, gg+66, b+70
			}
			// person: head, neck, torso with arms
			dx := fx - cx
			head := (dx*dx)/(38*38)+((fy-130)*(fy-130))/(48*48) <= 1
			neck := math.Abs(dx) < 16 && fy > 170 && fy < 200
			torso := fy >= 195 && fy < H && math.Abs(dx) < 95+0.25*(fy-195) && !(math.Abs(dx) > 70 && fy > 330)
			if head || neck {
				r, gg, b = 224, 180, 150
			}
			if fy < 110 && (dx*dx)/(42*42)+((fy-118)*(fy-118))/(52*52) <= 1 {
				r, gg, b = 60, 40, 30 // hair
			}
			if torso {
				if tryOn {
					k := 0.85 + 0.15*math.Sin(fy/9)
					r, gg, b = float64(g.R)*k, float64(g.G)*k, float64(g.B)*k
				} else {
					r, gg, b = 120, 126, 140
				}
			}
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = clamp(r), clamp(gg), clamp(b), 255
		}
	}
	return img
}

func clamp(v float64) uint8 { return uint8(math.Max(0, math.Min(255, v))) }

// The fake catalog.

type garment struct {
	id, name, cat string
	c             color.RGBA
}

var garments = []garment{
	{"tee-coral", "Coral tee", "tops", color.RGBA{238, 99, 82, 255}},
	{"tee-navy", "Navy tee", "tops", color.RGBA{40, 62, 120, 255}},
	{"polo-mint", "Mint polo", "tops", color.RGBA{110, 200, 170, 255}},
	{"shirt-ochre", "Ochre shirt", "tops", color.RGBA{214, 160, 50, 255}},
	{"hoodie-grey", "Grey hoodie", "outerwear", color.RGBA{150, 150, 160, 255}},
	{"jacket-olive", "Olive jacket", "outerwear", color.RGBA{110, 120, 60, 255}},
	{"dress-rose", "Rose dress", "dresses", color.RGBA{230, 130, 170, 255}},
	{"dress-black", "Little black dress", "dresses", color.RGBA{30, 30, 36, 255}},
	{"tee-lilac", "Lilac tee", "tops", color.RGBA{170, 140, 230, 255}},
	{"tank-white", "White tank top", "tops", color.RGBA{240, 240, 236, 255}},
}

type catalog struct{ items []ui.GarmentItem }

func newCatalog() *catalog {
	c := &catalog{}
	for _, g := range garments {
		c.items = append(c.items, ui.GarmentItem{ID: g.id, Name: g.name, Category: g.cat,
			Tags: []string{g.cat}, Thumb: thumb(g), Bundled: true})
	}
	return c
}

func (c *catalog) List() []ui.GarmentItem { return c.items }

func (c *catalog) Import(path string) (ui.GarmentItem, error) {
	time.Sleep(time.Second)
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	g := garment{id: "user-" + name, name: name, cat: "tops", c: color.RGBA{90, 180, 230, 255}}
	garments = append(garments, g)
	it := ui.GarmentItem{ID: g.id, Name: g.name, Category: g.cat, Thumb: thumb(g)}
	c.items = append(c.items, it)
	return it, nil
}

// Garment outlines in unit coordinates.
var (
	teeShape   = [][2]float64{{.37, .2}, {.5, .28}, {.63, .2}, {.82, .28}, {.93, .46}, {.79, .53}, {.74, .45}, {.74, .85}, {.26, .85}, {.26, .45}, {.21, .53}, {.07, .46}, {.18, .28}}
	dressShape = [][2]float64{{.38, .1}, {.5, .2}, {.62, .1}, {.66, .12}, {.63, .4}, {.82, .9}, {.18, .9}, {.37, .4}, {.34, .12}}
	coatShape  = [][2]float64{{.37, .15}, {.5, .3}, {.63, .15}, {.8, .22}, {.92, .85}, {.8, .86}, {.73, .45}, {.73, .9}, {.27, .9}, {.27, .45}, {.2, .86}, {.08, .85}, {.2, .22}}
)

// thumb draws a garment photo: its outline in its colour on light grey.
func thumb(g garment) image.Image {
	const n = 192
	shape := teeShape
	switch g.cat {
	case "dresses":
		shape = dressShape
	case "outerwear":
		shape = coatShape
	}
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			u, v := (float64(x)+.5)/n, (float64(y)+.5)/n
			c := color.RGBA{236, 236, 240, 255}
			if inPolygon(u, v, shape) {
				k := 0.9 + 0.1*math.Sin(v*40)
				c = color.RGBA{clamp(float64(g.c.R) * k), clamp(float64(g.c.G) * k), clamp(float64(g.c.B) * k), 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func inPolygon(u, v float64, p [][2]float64) bool {
	in := false
	for i, j := 0, len(p)-1; i < len(p); j, i = i, i+1 {
		xi, yi, xj, yj := p[i][0], p[i][1], p[j][0], p[j][1]
		if (yi > v) != (yj > v) && u < (xj-xi)*(v-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}
