package live

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
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
	lib, id := testLibrary(t)
	e = NewEngine(lib, Options{})
	t.Cleanup(func() { e.Close() })
	model = copyModel(t)
	if err := e.SetGarment(id); err != nil {
		t.Fatal(err)
	}
	if err := e.SetModel(model); err != nil {
		t.Fatal(err)
	}
	if err := e.Open(context.Background(), portraitClip(t)); err != nil {
		t.Fatal(err)
	}
	nextFrame(t, e, func(f ui.Frame) bool { return f.TryOn != nil })
	return e, model, id
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

func TestFaultOutputFolderDeletedWhileRecording(t *testing.T) {
	matleak.Check(t)
	e, _, _ := runningEngine(t)
	dir := filepath.Join(t.TempDir(), "clips")
	os.Mkdir(dir, 0o755)
	clip := filepath.Join(dir, "clip.mp4")
	if err := e.StartRecording(clip); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1000 * time.Millisecond)
	got, err := e.StopRecording()
	if !errors.Is(err, capture.ErrRescued) || got != clip || !strings.Contains(err.Error(), "deleted while recording") {
		t.Fatalf("StopRecording: %q, %v; want %s saved again with a message saying the folder was deleted", got, err, clip)
	}
	// Everything recorded, before and after the deletion, is there.
	if n := clipFrames(t, clip); n < 60 {
		t.Errorf("saved clip has %d frames; want the 2.5 s recorded (at least 60 at 30 fps)", n)
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
	clip := filepath.Join(dir, "clip.mp4")
	if err := e.StartRecording(clip); err != nil {
		t.Fatal(err)
	}
	// The recording stops by itself with a message; the stream goes on.
	deadline := time.After(60 * time.Second)
	var reported error
	for reported == nil {
		select {
		case err := <-e.Errors():
			reported = err
		case <-e.Frames():
		case <-deadline:
			t.Fatal("no message within 60 s while recording into 200 KiB")
		}
	}
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
	lib, id := testLibrary(t)
	e := NewEngine(lib, Options{})
	defer e.Close()
	if err := e.SetGarment(id); err != nil {
		t.Fatal(err)
	}
	if err := e.SetModel(fixtureModel); err != nil {
		t.Fatal(err)
	}
	src := portraitClip(t)
	if err := e.Open(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	nextFrame(t, e, func(f ui.Frame) bool { return f.TryOn != nil })
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	if err := e.StartRecording(clip); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
	var reported error
	deadline := time.After(15 * time.Second)
	for reported == nil {
		select {
		case err := <-e.Errors():
			reported = err
		case <-e.Frames():
		case <-deadline:
			t.Fatal("no message within 15 s after the source file was deleted")
		}
	}
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
