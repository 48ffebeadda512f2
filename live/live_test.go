package live

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mgvton/garments"
	"mgvton/internal/matleak"
	"mgvton/internal/repotest"
	"mgvton/ui"
)

const fixtureModel = "../inference/testdata/tiny"

func TestMain(m *testing.M) {
	// The commands and the engine load the runtime library and the person
	// models (framing) themselves: point them at the checkout's.
	repotest.SetEnv()
	os.Exit(m.Run())
}

// portraitClip writes a 3:4 test clip: the pipeline uses such frames whole,
// so the fixture model dresses every frame.
func portraitClip(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "portrait.mp4")
	out, err := exec.Command("ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=192x256:rate=30",
		"-t", "2", "-pix_fmt", "yuv420p", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	return p
}

// testLibrary makes a user catalog holding the fixture garment.
func testLibrary(t *testing.T) (*garments.Library, string) {
	t.Helper()
	lib, err := garments.OpenLibrary("", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g, err := lib.Import("../inference/testdata/garment.png", garments.ImportOptions{Name: "Fixture tee",
		MaskPath: "../inference/testdata/garment_mask.png"})
	if err != nil {
		t.Fatal(err)
	}
	return lib, g.ID
}

// nextFrame waits for a frame for which ok returns true.
func nextFrame(t *testing.T, e *Engine, ok func(ui.Frame) bool) ui.Frame {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case f := <-e.Frames():
			if ok(f) {
				return f
			}
		case err := <-e.Errors():
			t.Fatalf("engine error: %v", err)
		case <-deadline:
			t.Fatal("no matching frame within 15 s")
		}
	}
}

func TestEngineShowsRecordsAndSnapshots(t *testing.T) {
	matleak.Check(t)
	lib, id := testLibrary(t)
	e := NewEngine(lib, Options{})
	defer e.Close()
	ctx := context.Background()

	// Without a model the camera picture still shows.
	if err := e.Open(ctx, portraitClip(t)); err != nil {
		t.Fatal(err)
	}
	f := nextFrame(t, e, func(f ui.Frame) bool { return f.Camera != nil })
	if f.TryOn != nil {
		t.Error("try-on shown before a model was loaded")
	}
	if b := f.Camera.Bounds(); b.Dx() != 192 || b.Dy() != 256 {
		t.Errorf("camera picture: got %v; want 192x256", b)
	}

	if err := e.SetGarment(id); err != nil {
		t.Fatal(err)
	}
	if err := e.SetModel(fixtureModel); err != nil {
		t.Fatal(err)
	}
	if err := e.SetModel(fixtureModel); err != nil { // same model: no-op
		t.Fatal(err)
	}
	f = nextFrame(t, e, func(f ui.Frame) bool { return f.TryOn != nil })
	if !f.Stats.PersonFound {
		t.Error("PersonFound false on a portrait frame")
	}

	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.mp4")
	if err := e.StartRecording(clip); err != nil {
		t.Fatal(err)
	}
	if err := e.StartRecording(filepath.Join(dir, "second.mp4")); !errors.Is(err, ErrAlreadyRecording) {
		t.Errorf("a second StartRecording: got %v; want ErrAlreadyRecording", err)
	}
	time.Sleep(1500 * time.Millisecond)
	got, err := e.StopRecording()
	if err != nil || got != clip {
		t.Fatalf("StopRecording: got %q, %v; want %q", got, err, clip)
	}
	if st, err := os.Stat(clip); err != nil || st.Size() == 0 {
		t.Errorf("clip: %v", err)
	}

	snap := filepath.Join(dir, "snap.png")
	if err := e.Snapshot(snap); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(snap); !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Error("snapshot is not a PNG")
	}
	e.Close()
	e.Close()
}

func TestEngineReportsABadSourceAndKeepsRunning(t *testing.T) {
	matleak.Check(t)
	lib, _ := testLibrary(t)
	e := NewEngine(lib, Options{})
	defer e.Close()
	if err := e.Open(context.Background(), filepath.Join(t.TempDir(), "gone.mp4")); err == nil {
		t.Fatal("Open of a missing file: got no error")
	}
	if err := e.Open(context.Background(), "cam:7"); err == nil {
		t.Fatal("Open of a missing camera: got no error")
	}
	if err := e.Open(context.Background(), portraitClip(t)); err != nil {
		t.Fatalf("Open after failures: %v", err)
	}
	nextFrame(t, e, func(f ui.Frame) bool { return f.Camera != nil })
}

func TestCatalogListsAndImports(t *testing.T) {
	lib, id := testLibrary(t)
	c := NewCatalog(lib)
	items := c.List()
	if len(items) != 1 || items[0].ID != id || items[0].Thumb == nil {
		t.Fatalf("List: got %+v; want the fixture garment with a thumbnail", items)
	}
	if _, err := c.Import("live_test.go"); err == nil {
		t.Error("Import of a Go file: got no error")
	}
}

// TestEngineRunsWithoutPersonModels: missing person models are reported
// (one line naming the file) and the stream goes on; portrait frames are
// still dressed whole.
func TestEngineRunsWithoutPersonModels(t *testing.T) {
	matleak.Check(t)
	t.Setenv("MGVTON_PERSON_MODELS", t.TempDir())
	lib, id := testLibrary(t)
	e := NewEngine(lib, Options{})
	defer e.Close()
	if err := e.Open(context.Background(), portraitClip(t)); err != nil {
		t.Fatal(err)
	}
	if err := e.SetGarment(id); err != nil {
		t.Fatal(err)
	}
	if err := e.SetModel(fixtureModel); err != nil {
		t.Fatalf("SetModel without person models: %v; want the stream to go on", err)
	}
	select {
	case err := <-e.Errors():
		if !strings.Contains(err.Error(), "pose_detection.onnx") || strings.Contains(err.Error(), "\n") {
			t.Errorf("reported %q; want one line naming pose_detection.onnx", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("no error reported for the missing person models")
	}
	nextFrame(t, e, func(f ui.Frame) bool { return f.TryOn != nil })
}

// Options.PoseLite reaches the tracker of the pipeline SetModel makes (the
// app's -pose); the zero Options keep the full landmark model.
func TestEnginePoseModel(t *testing.T) {
	matleak.Check(t)
	lib, _ := testLibrary(t)
	for _, c := range []struct {
		lite bool
		want string
	}{{false, "full"}, {true, "lite"}} {
		e := NewEngine(lib, Options{PoseLite: c.lite})
		if err := e.SetModel(fixtureModel); err != nil {
			e.Close()
			t.Fatal(err)
		}
		if got := e.sess.Pipeline().PoseModel(); got != c.want {
			t.Errorf("PoseLite %v: pipeline's pose model %q; want %q", c.lite, got, c.want)
		}
		e.Close()
	}
}
