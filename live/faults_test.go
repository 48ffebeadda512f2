package live

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"mgvton/capture"
	"mgvton/internal/matleak"
	"mgvton/ui"
)

// Faults while running, on the engine the window drives, with a video file
// standing in for the camera: each gives a clear message, the stream keeps
// running, and nothing already written is lost.

// copyModel copies the fixture model into a new folder and returns it.
func copyModel(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "model")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(fixtureModel)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(fixtureModel, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// runningEngine starts an engine dressing a looping clip with a copy of the
// fixture model, and waits for the first try-on.
func runningEngine(t *testing.T) (e *Engine, model, garment string) {
	t.Helper()
	model = copyModel(t)
	e, garment = dressingEngine(t, model)
	openDressed(t, e, portraitClip(t))
	return e, model, garment
}

// openDressed opens src on e and waits for its first try-on frame.
func openDressed(t *testing.T, e *Engine, src string) {
	t.Helper()
	if err := e.Open(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	nextFrame(t, e, func(f ui.Frame) bool { return f.TryOn != nil })
}

// startClip starts recording into dir/clip.mp4 and returns its path.
func startClip(t *testing.T, e *Engine, dir string) string {
	t.Helper()
	clip := filepath.Join(dir, "clip.mp4")
	if err := e.StartRecording(clip); err != nil {
		t.Fatal(err)
	}
	return clip
}

// dressingEngine returns an engine with the test library's garment and
// the model in folder model, not yet fed; it is closed when the test ends.
func dressingEngine(t *testing.T, model string) (e *Engine, garment string) {
	t.Helper()
	lib, garment := testLibrary(t)
	e = NewEngine(lib, Options{})
	t.Cleanup(func() { e.Close() })
	if err := e.SetGarment(garment); err != nil {
		t.Fatal(err)
	}
	if err := e.SetModel(model); err != nil {
		t.Fatal(err)
	}
	return e, garment
}

// stillDressing checks that try-on frames keep coming for a while.
func stillDressing(t *testing.T, e *Engine, what string) {
	t.Helper()
	for i := 0; i < 10; i++ {
		select {
		case f := <-e.Frames():
			if f.TryOn == nil {
				i--
			}
		case err := <-e.Errors():
			t.Fatalf("%s: engine error: %v", what, err)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the stream stopped", what)
		}
	}
}

func TestFaultModelFolderGoneOrGarbageWhileRunning(t *testing.T) {
	matleak.Check(t)
	e, loaded, _ := runningEngine(t)

	// The loaded model's folder is deleted: its graphs are in memory.
	if err := os.RemoveAll(loaded); err != nil {
		t.Fatal(err)
	}
	stillDressing(t, e, "model folder deleted while loaded")

	// Switching to a model whose folder is gone, or whose graph was
	// replaced by garbage, fails with a message naming it; the running
	// model stays.
	gone := copyModel(t)
	os.RemoveAll(gone)
	if err := e.SetModel(gone); err == nil || !strings.Contains(err.Error(), gone) {
		t.Errorf("SetModel(deleted folder): %v; want an error naming %s", err, gone)
	}
	garbage := copyModel(t)
	if err := os.WriteFile(filepath.Join(garbage, "warp.onnx"), []byte("this is not an onnx graph"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.SetModel(garbage); err == nil || !strings.Contains(err.Error(), "warp.onnx") {
		t.Errorf("SetModel(garbage graph): %v; want an error naming warp.onnx", err)
	}
	stillDressing(t, e, "after failed model switches")

	// A good model can still be switched to.
	if err := e.SetModel(copyModel(t)); err != nil {
		t.Fatalf("SetModel(good copy) after the failures: %v", err)
	}
	stillDressing(t, e, "after switching to a good model")
}

func TestFaultSelectedGarmentDeletedFromCatalog(t *testing.T) {
	matleak.Check(t)
	e, _, id := runningEngine(t)
	if err := e.lib.Remove(id); err != nil {
		t.Fatal(err)
	}
	// The garment worn was prepared in memory: the try-on goes on.
	stillDressing(t, e, "garment removed from the catalog")
	// Choosing it again says what is wrong.
	if err := e.SetGarment(id); err == nil || !strings.Contains(err.Error(), id) {
		t.Errorf("SetGarment(removed): %v; want an error naming %s", err, id)
	}
	// A model switch still happens; the missing garment is reported.
	if err := e.SetModel(copyModel(t)); err != nil {
		t.Fatalf("SetModel after the garment was removed: %v", err)
	}
	select {
	case err := <-e.Errors():
		if !strings.Contains(err.Error(), id) {
			t.Errorf("reported %q; want it to name the garment %s", err, id)
		}
	case <-time.After(5 * time.Second):
		t.Error("no message about the missing garment after the model switch")
	}
	nextFrame(t, e, func(f ui.Frame) bool { return f.Camera != nil })
}

// clipFrames counts the frames OpenCV reads from a clip.
func clipFrames(t *testing.T, path string) int {
	t.Helper()
	vc, err := gocv.VideoCaptureFile(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer vc.Close()
	img := gocv.NewMat()
	defer img.Close()
	n := 0
	for vc.Read(&img) && !img.Empty() {
		n++
	}
	return n
}

// nextReport returns the next problem the engine reports, taking frames
// meanwhile; it fails the test when none comes within d ("no message
// within d " + after).
func nextReport(t *testing.T, e *Engine, d time.Duration, after string) error {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case err := <-e.Errors():
			return err
		case <-e.Frames():
		case <-deadline:
			t.Fatalf("no message within %v %s", d, after)
		}
	}
}

// waitRecorded waits until the clip being recorded has n frames.
func waitRecorded(t *testing.T, e *Engine, n int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for e.sess.RecordedFrames() < n {
		if time.Now().After(deadline) {
			t.Fatalf("recording: %d frames after 60 s; want %d", e.sess.RecordedFrames(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFaultOutputFolderDeletedWhileRecording(t *testing.T) {
	matleak.Check(t)
	e, _, _ := runningEngine(t)
	dir := filepath.Join(t.TempDir(), "clips")
	os.Mkdir(dir, 0o755)
	clip := startClip(t, e, dir)
	// Frames before and after the deletion, counted rather than timed: a
	// loaded machine delivers fewer frames a second.
	waitRecorded(t, e, 30)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	atDeletion := e.sess.RecordedFrames()
	waitRecorded(t, e, atDeletion+30)
	got, err := e.StopRecording()
	if !errors.Is(err, capture.ErrRescued) || got != clip || !strings.Contains(err.Error(), "deleted while recording") {
		t.Fatalf("StopRecording: %q, %v; want %s saved again with a message saying the folder was deleted", got, err, clip)
	}
	// What was recorded before and after the deletion is there. The
	// recorder keeps a constant frame rate (a frame early for its slot may
	// be merged, a late one repeated), so the count is not exact: the 30
	// frames after the deletion must be there, less a few for merging.
	if n := clipFrames(t, clip); int64(n) < atDeletion+20 {
		t.Errorf("saved clip has %d frames; want the %d recorded before the deletion and most of the 30 after", n, atDeletion)
	}
	stillDressing(t, e, "after the output folder was deleted")
}

// mountTmpfs mounts a small tmpfs, or skips where that is not permitted.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(dir, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v: %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

func TestFaultDiskFullWhileRecording(t *testing.T) {
	matleak.Check(t)
	e, _, _ := runningEngine(t)
	dir := mountTmpfs(t, "200k")
	clip := startClip(t, e, dir)
	// The recording stops by itself with a message; the stream goes on.
	reported := nextReport(t, e, 60*time.Second, "while recording into 200 KiB")
	if !errors.Is(reported, syscall.ENOSPC) || !strings.Contains(reported.Error(), "recording stopped") {
		t.Errorf("reported %q; want 'recording stopped' with ENOSPC", reported)
	}
	stillDressing(t, e, "after the disk filled")
	got, err := e.StopRecording()
	if got != clip || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("StopRecording: %q, %v; want %s and ENOSPC", got, err, clip)
	}
	// What fitted stays playable.
	if n := clipFrames(t, clip); n < 1 {
		t.Errorf("clip on the full disk has %d frames; want what fitted", n)
	}
	t.Logf("disk full: %v; the clip keeps %d frames", reported, clipFrames(t, clip))
}

// The file standing in for the camera is deleted while it plays (and while
// recording): when the pass ends the source cannot go on, which is said
// with the file's name; the clip recorded so far is kept, and another
// source can be opened.
func TestFaultSourceDeletedMidStream(t *testing.T) {
	matleak.Check(t)
	e, _ := dressingEngine(t, fixtureModel)
	src := portraitClip(t)
	openDressed(t, e, src)
	clip := startClip(t, e, t.TempDir())
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
	reported := nextReport(t, e, 15*time.Second, "after the source file was deleted")
	if !strings.Contains(reported.Error(), src) || !strings.Contains(reported.Error(), "deleted or moved") {
		t.Errorf("reported %q; want it to name %s and say it was deleted or moved", reported, src)
	}
	got, err := e.StopRecording()
	if err != nil || got != clip {
		t.Fatalf("StopRecording after the source failed: %q, %v", got, err)
	}
	if n := clipFrames(t, clip); n < 10 {
		t.Errorf("clip recorded before the source failed has %d frames; want what was shown", n)
	}
	if err := e.Open(context.Background(), portraitClip(t)); err != nil {
		t.Fatalf("Open another source: %v", err)
	}
	stillDressing(t, e, "after opening another source")
	t.Logf("source deleted: %v", reported)
}

// portraitFolder writes n frames of a 3:4 test pattern as PNGs into a new
// folder (f001.png, f002.png, ...) and returns it.
func portraitFolder(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "frames")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=192x256:rate=30",
		"-frames:v", strconv.Itoa(n), filepath.Join(dir, "f%03d.png")).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	return dir
}

// stallAt replaces an image of a folder source by a named pipe that nobody
// writes: the source blocks in the decoder when it gets there, as it would
// on a hung network mount. The pipe is let go (opened for writing and
// closed, so the blocked read sees an empty file) at cleanup, after the
// engine was closed, so that a blocked read abandoned by the source ends
// and releases what it holds before the leak check.
func stallAt(t *testing.T, image string) {
	t.Helper()
	if err := os.Remove(image); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(image, 0o644); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	t.Cleanup(func() {
		// Let every reader blocked in open(2) go, until none is left.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			if f, err := os.OpenFile(image, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			} else if readersGone() {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// readersGone reports whether no goroutine is inside gocv's image decoder.
func readersGone() bool {
	buf := make([]byte, 1<<20)
	return !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "gocv.IMRead")
}

// within runs f and fails the test if it has not returned after d: a call
// that must never hang, whatever the source does.
func within(t *testing.T, d time.Duration, what string, f func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- f() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(d):
		t.Fatalf("%s hung: still blocked after %v while the source was stalled", what, d)
		return nil
	}
}

// The source stops delivering frames without ending or failing (a webcam
// that freezes, a video on a hung mount): here a folder played in real time
// whose next image is a named pipe nobody writes, so the source blocks
// inside the decoder. The person is told within seconds, naming the source;
// the clip being recorded keeps its frames; garment switching, switching to
// another source and closing never hang.
func TestFaultSourceStallsMidStream(t *testing.T) {
	matleak.Check(t)
	e, id := dressingEngine(t, fixtureModel) // closed after stallAt's cleanup has let the pipe go
	dir := portraitFolder(t, 45)
	openDressed(t, e, dir)
	clip := startClip(t, e, t.TempDir())
	time.Sleep(500 * time.Millisecond) // a few frames into the clip
	stallAt(t, filepath.Join(dir, "f040.png"))

	reported := nextReport(t, e, 20*time.Second, "after the source stopped delivering frames")
	if !errors.Is(reported, capture.ErrStalled) || !strings.Contains(reported.Error(), "frames") ||
		!strings.Contains(reported.Error(), filepath.Base(dir)) {
		t.Errorf("reported %q; want a stall (capture.ErrStalled) naming the source %s", reported, filepath.Base(dir))
	}

	// The window stays usable while the source is stalled.
	if err := within(t, 30*time.Second, "SetGarment", func() error { return e.SetGarment(id) }); err != nil {
		t.Errorf("SetGarment during the stall: %v", err)
	}
	var got string
	err := within(t, 30*time.Second, "StopRecording", func() (err error) { got, err = e.StopRecording(); return err })
	if err != nil || got != clip {
		t.Fatalf("StopRecording during the stall: %q, %v", got, err)
	}
	if n := clipFrames(t, clip); n < 10 {
		t.Errorf("clip recorded before the stall has %d frames; want what was shown", n)
	}
	// Another source can be picked, and the stream goes on with it.
	if err := within(t, 30*time.Second, "Open (another source)", func() error {
		return e.Open(context.Background(), portraitClip(t))
	}); err != nil {
		t.Fatalf("Open another source during the stall: %v", err)
	}
	stillDressing(t, e, "after switching away from the stalled source")

	// Back to the folder (which now skips the pipe it lists no more): it
	// stalls again at another image turned into a pipe, and quitting then
	// does not wait for it either.
	if err := within(t, 30*time.Second, "Open (the folder again)", func() error {
		return e.Open(context.Background(), dir)
	}); err != nil {
		t.Fatal(err)
	}
	nextFrame(t, e, func(f ui.Frame) bool { return f.TryOn != nil })
	stallAt(t, filepath.Join(dir, "f020.png"))
	for !errors.Is(nextReport(t, e, 30*time.Second, "about the second stall"), capture.ErrStalled) {
	}
	within(t, 30*time.Second, "Close", e.Close)
	t.Logf("source stalled: %v", reported)
}

// The source is a named pipe carrying a video, as a capture program or a
// network receiver would write it, and its writer stops half-way for longer
// than the stall time, then goes on and finally closes the pipe. The stall
// is reported naming the source, the try-on comes back by itself when
// frames do, the end is reported, and the clip recorded across the stall
// keeps its frames.
func TestFaultPipeSourceStallsAndResumes(t *testing.T) {
	matleak.Check(t)
	e, _ := dressingEngine(t, fixtureModel)
	dir := t.TempDir()
	video := filepath.Join(dir, "portrait.mkv")
	if out, err := exec.Command("ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=192x256:rate=30",
		"-t", "6", "-pix_fmt", "yuv420p", video).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	data, err := os.ReadFile(video)
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "live.mkv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	paused, resume, written := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0) // waits for the engine to open it
		if err != nil {
			close(paused)
			written <- err
			return
		}
		cut := len(data) * 2 / 5
		_, err = f.Write(data[:cut])
		close(paused)
		<-resume
		if err == nil {
			_, err = f.Write(data[cut:])
		}
		written <- errors.Join(err, f.Close())
	}()
	defer func() {
		select {
		case <-resume:
		default:
			close(resume)
		}
		if f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close() // lets a writer that no reader took go
		}
	}()
	if err := within(t, 30*time.Second, "Open (named pipe)", func() error { return e.Open(context.Background(), fifo) }); err != nil {
		t.Fatal(err)
	}
	nextFrame(t, e, func(f ui.Frame) bool { return f.TryOn != nil })
	clip := startClip(t, e, dir)

	<-paused
	stall := nextReport(t, e, 30*time.Second, "after the pipe's writer stopped")
	if !errors.Is(stall, capture.ErrStalled) || !strings.Contains(stall.Error(), "live.mkv") {
		t.Fatalf("reported %q; want a stall (capture.ErrStalled) naming live.mkv", stall)
	}
	close(resume)
	stillDressing(t, e, "after the pipe's writer went on")
	end := nextReport(t, e, 30*time.Second, "after the pipe's writer closed it")
	if !errors.Is(end, io.EOF) || !strings.Contains(end.Error(), "live.mkv") {
		t.Errorf("reported %q at the end of the pipe; want an end (io.EOF) naming live.mkv", end)
	}
	if err := <-written; err != nil {
		t.Errorf("pipe writer: %v", err)
	}
	got, err := e.StopRecording()
	if err != nil || got != clip {
		t.Fatalf("StopRecording: %q, %v", got, err)
	}
	if n := clipFrames(t, clip); n < 30 {
		t.Errorf("clip recorded across the stall has %d frames; want the frames shown before and after it", n)
	}
	t.Logf("stall: %v; end: %v; clip: %d frames", stall, end, clipFrames(t, clip))
}
