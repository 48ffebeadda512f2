package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"mgvton/internal/realeval"
	"mgvton/person"
)

func init() {
	register("realeval", "measure the try-on on real photos or a video (no ground truth needed)", runRealEval)
}

func runRealEval(args []string) error {
	fs := newFlags("realeval", "-in DIR|VIDEO -garment G [-model DIR] -o DIR")
	var mf modelFlags
	mf.register(fs)
	var pose poseFlag
	pose.register(fs, person.LandmarkFull)
	in := fs.String("in", "", "folder of photos of people, or a video file")
	garment := fs.String("garment", "", "garment image file, or the id of a catalog garment")
	maskPath := fs.String("mask", "", "garment mask for a garment image file")
	frame := fs.String("frame", "auto", "person framing: auto, on or off (see 'mgvton tryon -h')")
	seq := fs.Bool("sequence", false, "treat a folder as consecutive video frames, not unrelated photos")
	maxFrames := fs.Int("frames", 0, "measure at most this many pictures (0: all)")
	every := fs.Int("every", 1, "video: measure one frame in this many")
	rows := fs.Int("rows", 24, "contact sheet: at most this many rows")
	paste := fs.String("paste", "body", "paste-back: body (only the garment region) or whole (the whole crop, as before person models; for comparison)")
	quiet := fs.Bool("q", false, "no line per picture")
	out := fs.String("o", "", "output folder (report.json, report.md, sheet.jpg)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *in == "" {
		return errors.New("-in is required")
	}
	if *out == "" {
		return errors.New("-o is required")
	}
	if *paste != "body" && *paste != "whole" {
		return fmt.Errorf("-paste %q: want body or whole", *paste)
	}
	mode, err := framingMode(*frame)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	m, err := mf.load()
	if err != nil {
		return err
	}
	defer m.Close()
	g, err := prepareGarment(ctx, m, *garment, *maskPath)
	if err != nil {
		return err
	}
	opts := realeval.Options{In: *in, Out: *out, Garment: filepath.Base(*garment), Model: m.Manifest.Name,
		Sequence: *seq, MaxFrames: *maxFrames, Every: *every, SheetRows: *rows, Framing: mode,
		WholeCrop: *paste == "whole", PoseLite: pose.lite()}
	if !*quiet {
		opts.Log = os.Stderr
	}
	rep, err := realeval.Run(ctx, m, g, opts)
	if err != nil {
		return err
	}
	s := rep.Summary
	fmt.Fprintf(os.Stderr, "wrote %s: %d pictures, person found %.0f %%, faces at target %s, backgrounds at target %s\n",
		filepath.Join(*out, "report.md"), s.Frames, 100*s.PersonFoundRate, s.FacesMeetingTarget, s.BackgroundsMeetingTarget)
	return nil
}
