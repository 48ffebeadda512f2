package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"mgvton/capture"
	"mgvton/inference"
	"mgvton/internal/fsutil"
	"mgvton/person"
)

func init() {
	register("video", "dress the person in every frame of a video", runVideo)
}

func runVideo(args []string) error {
	fs := newFlags("video", "-in IN.mp4 -garment G [-model DIR] -o OUT.mp4")
	var mf modelFlags
	mf.register(fs)
	var pose poseFlag
	pose.register(fs, person.LandmarkFull)
	in := fs.String("in", "", "input video file (or a folder of images)")
	garment := fs.String("garment", "", "garment image file, or the id of a catalog garment")
	maskPath := fs.String("mask", "", "garment mask for a garment image file")
	frame := fs.String("frame", "auto", "person framing: auto, on or off (see 'mgvton tryon -h')")
	out := fs.String("o", "", "output video (.mp4, H.264)")
	quiet := fs.Bool("q", false, "no progress bar")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *in == "" {
		return errors.New("-in is required")
	}
	if err := checkOutput(*out, ".mp4"); err != nil {
		return err
	}
	recoverOutputs(filepath.Dir(*out))
	mode, err := framingMode(*frame)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	src, err := capture.Open(*in, capture.Options{})
	if err != nil {
		return err
	}
	defer src.Close()
	info := src.Info()
	m, err := mf.load()
	if err != nil {
		return err
	}
	defer m.Close()
	g, err := prepareGarment(ctx, m, *garment, *maskPath)
	if err != nil {
		return err
	}
	p, err := inference.NewPipeline(m, pose.pipeline(inference.PipelineOptions{Framing: mode}))
	if err != nil {
		return err
	}
	defer p.Close()
	p.SetGarment(g)

	// The clip is written beside the target and renamed when complete, so a
	// failure or an interrupt never leaves a half-written OUT.mp4.
	tmp, err := fsutil.TempPath(*out)
	if err != nil {
		return err
	}
	os.Remove(tmp) // the recorder creates it exclusively
	defer os.Remove(tmp)
	fps := info.FPS
	if fps <= 0 || fps > 240 {
		fps = 30
	}
	rec, err := capture.NewRecorder(tmp, capture.RecorderOptions{FPS: fps})
	if err != nil {
		return err
	}
	defer rec.Close()

	var bar *progress
	if !*quiet {
		bar = newProgress(os.Stderr, "video", info.Frames)
	}
	// Output frame timing follows the input's own timestamps, so the clip
	// keeps the input's frame rate and duration.
	t0 := time.Now()
	n, persons := 0, 0
	for {
		f, err := src.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		res, err := p.Process(ctx, f)
		if err != nil {
			return err
		}
		if res.Person {
			persons++
		}
		err = rec.Write(res.TryOn, t0.Add(f.PTS))
		res.Close()
		if err != nil {
			return err
		}
		n++
		if bar != nil {
			bar.update(n)
		}
	}
	if bar != nil {
		bar.finish()
	}
	if n == 0 {
		return fmt.Errorf("input %s: no frames", *in)
	}
	if err := rec.Close(); errors.Is(err, capture.ErrRescued) {
		// The folder was deleted while recording; the clip was written
		// again (the folder re-created) and is committed as usual.
		fmt.Fprintf(os.Stderr, "mgvton: %v\n", err)
		tmp = rec.Path()
	} else if err != nil {
		return err
	}
	if err := fsutil.Commit(tmp, *out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d frames at %.3g fps, person found in %d\n", *out, n, fps, persons)
	return nil
}
