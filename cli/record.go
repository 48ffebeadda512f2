package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"mgvton/capture"
	"mgvton/internal/fsutil"
	"mgvton/live"
	"mgvton/person"
)

func init() {
	register("record", "record a live try-on clip without the window", runRecord)
}

func runRecord(args []string) error {
	fs := newFlags("record", "-source SRC -garment G -seconds N -o OUT.mp4")
	var mf modelFlags
	mf.register(fs)
	var pose poseFlag
	pose.register(fs, person.LandmarkLite)
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
	// A write error stops reading at once.
	readCtx, cancelRead := context.WithCancel(ctx)
	defer cancelRead()
	sess, src, err := startLive(m, g, *source, pose, live.SessionOptions{SideBySide: *sideBySide,
		OnError: func(error) { cancelRead() }})
	if err != nil {
		return err
	}
	defer src.Close()
	defer sess.Close()
	sess.SetMirror(*mirror)

	tmp, err := fsutil.TempPath(*out)
	if err != nil {
		return err
	}
	os.Remove(tmp) // the recorder creates it exclusively
	defer os.Remove(tmp)
	if err := sess.StartRecording(tmp); err != nil {
		return err
	}
	p := sess.Pipeline()
	// Source -> pipeline -> recorder (each frame with its capture time),
	// for the given wall time.
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	feedCtx, cancelFeed := context.WithDeadline(readCtx, deadline)
	defer cancelFeed()
	// A stalled source (a pipe whose writer stopped, a hung mount) blocks
	// Read in C: closing it when reading is over (the deadline, Ctrl-C, a
	// write error) ends that Read, and the clip keeps the frames that came.
	defer context.AfterFunc(feedCtx, func() { src.Close() })()
	readErr := sess.Feed(feedCtx, src, 0)
	sess.StopPipeline() // the results still in flight reach the recorder
	stats := p.Stats()
	writeErr := sess.RecordingErr()
	n := sess.RecordedFrames()
	recPath, closeErr := sess.StopRecording()
	if writeErr != nil {
		return writeErr
	}
	if readErr != nil && !errors.Is(readErr, capture.ErrClosed) {
		return readErr
	}
	if ctx.Err() != nil {
		return errors.New("interrupted; no clip written")
	}
	if errors.Is(closeErr, capture.ErrRescued) {
		// The folder was deleted while recording; the clip was written
		// again (the folder re-created) and is committed as usual.
		fmt.Fprintf(os.Stderr, "mgvton: %v\n", closeErr)
		tmp = recPath
	} else if closeErr != nil {
		return closeErr
	}
	if err := fsutil.Commit(tmp, *out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d frames in %.1f s (warp %.2f fps, %d dropped)\n", *out, n, *seconds, float64(stats.Warp.Out)/(*seconds), stats.Dropped())
	return nil
}
