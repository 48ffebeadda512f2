package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"mgvton/capture"
	"mgvton/inference"
	"mgvton/internal/fsutil"
)

func init() {
	register("record", "record a live try-on clip without the window", runRecord)
}

func runRecord(args []string) error {
	fs := newFlags("record", "-source SRC -garment G -seconds N -o OUT.mp4")
	var mf modelFlags
	mf.register(fs)
	source := fs.String("source", "demo", "frame source: demo, cam:N, /dev/videoN, a video file or an image folder")
	garment := fs.String("garment", "", "garment image file, or the id of a catalog garment")
	seconds := fs.Float64("seconds", 5, "how long to record (wall time)")
	sideBySide := fs.Bool("side-by-side", false, "record the camera picture beside the try-on")
	mirror := fs.Bool("mirror", false, "mirror the picture (as the app does for webcams)")
	out := fs.String("o", "", "output clip (.mp4, H.264); the folder must exist")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *seconds <= 0 || *seconds > 24*3600 {
		return fmt.Errorf("-seconds %g: want a positive duration under a day", *seconds)
	}
	if err := checkOutput(*out, ".mp4"); err != nil {
		return err
	}
	recoverOutputs(filepath.Dir(*out))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	m, err := mf.load()
	if err != nil {
		return err
	}
	defer m.Close()
	g, err := prepareGarment(ctx, m, *garment, "")
	if err != nil {
		return err
	}
	src, p, err := startLive(ctx, m, g, *source)
	if err != nil {
		return err
	}
	defer src.Close()
	defer p.Close()

	tmp, err := fsutil.TempPath(*out)
	if err != nil {
		return err
	}
	os.Remove(tmp) // the recorder creates it exclusively
	defer os.Remove(tmp)
	rec, err := capture.NewRecorder(tmp, capture.RecorderOptions{FPS: 30})
	if err != nil {
		return err
	}
	defer rec.Close()

	// Reader: source -> pipeline, for the given wall time.
	var wg sync.WaitGroup
	var readErr error
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	readCtx, cancelRead := context.WithDeadline(ctx, deadline)
	defer cancelRead()
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer p.Close() // ends Results
		for readCtx.Err() == nil {
			f, err := src.Read()
			if err != nil {
				readErr = err
				return
			}
			if *mirror {
				gocv.Flip(f.Mat, &f.Mat, 1)
			}
			p.Submit(inference.Frame{Mat: f.Mat, Time: f.Time, Seq: f.Seq})
		}
	}()
	// Writer: pipeline -> recorder, with each frame's capture time.
	frame := gocv.NewMat()
	defer frame.Close()
	var writeErr error
	n := 0
	for res := range p.Results() {
		if writeErr == nil {
			img := res.TryOn
			if *sideBySide {
				capture.SideBySide(&frame, res.Frame, res.TryOn)
				img = frame
			}
			writeErr = rec.Write(img, res.Time)
			n++
		}
		res.Close()
		if writeErr != nil {
			cancelRead()
		}
	}
	wg.Wait()
	if writeErr != nil {
		return writeErr
	}
	if readErr != nil && !errors.Is(readErr, capture.ErrClosed) {
		return readErr
	}
	if ctx.Err() != nil {
		return errors.New("interrupted; no clip written")
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
	st := p.Stats()
	fmt.Fprintf(os.Stderr, "wrote %s: %d frames in %.1f s (warp %.2f fps, %d dropped)\n", *out, n, *seconds, float64(st.Warp.Out)/(*seconds), st.Dropped())
	return nil
}
