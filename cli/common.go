package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"gocv.io/x/gocv"

	"mgvton/capture"
	"mgvton/garments"
	"mgvton/inference"
	"mgvton/internal/fsutil"
	"mgvton/live"
	"mgvton/person"
)

// modelFlags are the flags every command that runs the model shares.
type modelFlags struct {
	dir         string
	libraryPath string
	device      deviceFlag
}

func (f *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dir, "model", "", "model folder (default: models/default)")
	fs.StringVar(&f.libraryPath, "ort-lib", "", "ONNX Runtime library (default: $"+inference.LibraryEnv+", then lib/libonnxruntime.so)")
	f.device.register(fs)
}

// load loads the model folder named by the flags.
func (f *modelFlags) load() (*inference.Model, error) {
	if err := f.device.apply(); err != nil {
		return nil, err
	}
	dir := f.dir
	if dir == "" {
		dir = inference.DefaultModelDir()
	}
	m, err := inference.LoadModel(dir, inference.Options{LibraryPath: f.libraryPath})
	if err != nil {
		return nil, err
	}
	f.device.report()
	return m, nil
}

// deviceFlag is -device: where the graphs run. It is a flag.Value so that a
// wrong name is refused while the flags are parsed, before any work.
type deviceFlag struct {
	dev   inference.Device
	given bool
}

func (d *deviceFlag) register(fs *flag.FlagSet) {
	d.dev = inference.DeviceAuto
	fs.Var(d, "device", "where the graphs run: auto (CUDA when a GPU and 'make setup-gpu' are there, else CPU), cpu or cuda")
}

func (d *deviceFlag) String() string {
	if d == nil || d.dev == "" {
		return string(inference.DeviceAuto)
	}
	return string(d.dev)
}

func (d *deviceFlag) Set(s string) error {
	dev, err := inference.ParseDevice(s)
	if err != nil {
		return err
	}
	d.dev, d.given = dev, true
	return nil
}

// apply sets the device before the runtime starts.
func (d *deviceFlag) apply() error { return inference.SetDevice(d.dev) }

// report says on stderr which device was chosen when there was a choice to
// make: always on a GPU, and when -device was given.
func (d *deviceFlag) report() {
	dev, why, _ := inference.ChosenDevice()
	if dev == inference.DeviceCUDA || d.given {
		fmt.Fprintf(os.Stderr, "mgvton: running on %s (%s)\n", dev, why)
	}
}

// poseFlag is -pose: the pose landmark model the person tracker runs. Like
// -device it is a flag.Value, so a wrong name is refused while the flags
// are parsed. The live commands (app, record, bench) default to lite, the
// offline ones (tryon, video, realeval) to full: see docs/performance.md.
type poseFlag struct{ name string } // person.LandmarkLite or person.LandmarkFull

func (p *poseFlag) register(fs *flag.FlagSet, def string) {
	p.name = def
	fs.Var(p, "pose", "pose landmark model that finds the body: lite (faster, for live video) or full (a little more accurate)")
}

func (p *poseFlag) String() string {
	if p == nil {
		return ""
	}
	return p.name
}

func (p *poseFlag) Set(s string) error {
	if s != person.LandmarkLite && s != person.LandmarkFull {
		return fmt.Errorf("pose %q: want lite or full", s)
	}
	p.name = s
	return nil
}

// lite reports whether the lite landmark model was chosen.
func (p *poseFlag) lite() bool { return p.name == person.LandmarkLite }

// pipeline returns o framing people with the chosen landmark model.
func (p *poseFlag) pipeline(o inference.PipelineOptions) inference.PipelineOptions {
	o.FramingOpts.Person.Lite = p.lite()
	return o
}

// garmentImage returns the garment image and mask for spec: an image file
// (prepared like an import: mask from maskPath, the alpha channel or the
// automatic mask; centred on the 3:4 canvas) or the id of a catalog garment.
// The caller closes both Mats.
func garmentImage(spec, maskPath string) (img, mask gocv.Mat, err error) {
	if spec == "" {
		return gocv.Mat{}, gocv.Mat{}, errors.New("-garment is required (an image file or a catalog id; see 'mgvton garments list')")
	}
	if st, err := os.Stat(spec); err == nil && !st.IsDir() {
		return garments.PrepareFile(spec, maskPath)
	}
	if strings.ContainsAny(spec, `/\.`) {
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("garment %s: no such file", spec)
	}
	lib, libErr := garments.OpenLibrary(garments.DefaultDirs()) // always usable
	g, ok := lib.Get(spec)
	if !ok {
		if libErr != nil {
			return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("garment %q: not a file and not in the catalog (%v)", spec, libErr)
		}
		return gocv.Mat{}, gocv.Mat{}, fmt.Errorf("garment %q: not a file and not in the catalog (see 'mgvton garments list')", spec)
	}
	if maskPath != "" {
		return gocv.Mat{}, gocv.Mat{}, errors.New("-mask applies to a garment image file, not to a catalog garment")
	}
	return garments.Load(g)
}

// prepareGarment loads spec and converts it for m.
func prepareGarment(ctx context.Context, m *inference.Model, spec, maskPath string) (*inference.Garment, error) {
	img, mask, err := garmentImage(spec, maskPath)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	defer mask.Close()
	return m.PrepareGarment(ctx, spec, img, mask)
}

// writeImage encodes img by the extension of path and writes it atomically.
func writeImage(path string, img gocv.Mat) error {
	ext := strings.ToLower(filepath.Ext(path))
	var format gocv.FileExt
	switch ext {
	case ".png":
		format = gocv.PNGFileExt
	case ".jpg", ".jpeg":
		format = gocv.JPEGFileExt
	default:
		return fmt.Errorf("output %s: unsupported extension %q (use .png or .jpg)", path, ext)
	}
	buf, err := gocv.IMEncode(format, img)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	defer buf.Close()
	return fsutil.WriteFile(path, buf.GetBytes(), 0o644)
}

// framingMode parses -frame.
func framingMode(s string) (inference.FramingMode, error) {
	switch s {
	case "auto":
		return inference.FramingAuto, nil
	case "on":
		return inference.FramingOn, nil
	case "off":
		return inference.FramingOff, nil
	}
	return 0, fmt.Errorf("-frame %q: want auto, on or off", s)
}

// checkOutput refuses an empty output path or a folder that does not exist,
// before any work is done.
func checkOutput(path string, exts ...string) error {
	if path == "" {
		return errors.New("-o is required")
	}
	ext := strings.ToLower(filepath.Ext(path))
	ok := false
	for _, e := range exts {
		ok = ok || ext == e
	}
	if !ok {
		return fmt.Errorf("output %s: extension must be one of %s", path, strings.Join(exts, ", "))
	}
	return fsutil.CheckDir(filepath.Dir(path))
}

// startLive opens a real-time, looping source and a live session whose
// pipeline dresses people in g. The caller feeds the session from the
// source (Session.Feed) and closes both (the session first).
func startLive(m *inference.Model, g *inference.Garment, source string, pose poseFlag, opts live.SessionOptions) (*live.Session, capture.Source, error) {
	src, err := capture.Open(source, capture.Options{RealTime: true, Loop: true})
	if err != nil {
		return nil, nil, err
	}
	sess, err := startSessionWith(m, g, pose.pipeline(inference.PipelineOptions{}), opts)
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return sess, src, nil
}

// startSessionWith makes a live session with a started pipeline (of po)
// dressing people in g. Its errors are not logged: commands report them.
func startSessionWith(m *inference.Model, g *inference.Garment, po inference.PipelineOptions, opts live.SessionOptions) (*live.Session, error) {
	p, err := inference.NewPipeline(m, po)
	if err != nil {
		return nil, err
	}
	p.SetGarment(g)
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	sess := live.NewSession(opts)
	if err := sess.SetPipeline(p); err != nil {
		sess.Close()
		return nil, err
	}
	return sess, nil
}

// recoverOutputs renames the clips and snapshots that an earlier run left
// half-saved in dir (killed, crashed: see capture.RecoverPartials) to
// visible names, and says so in one line on stderr.
func recoverOutputs(dir string) {
	if msg := capture.RecoveryReport(capture.RecoverPartials(dir)); msg != "" {
		fmt.Fprintf(os.Stderr, "mgvton: %s\n", msg)
	}
}
