package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"mgvton/internal/fsutil"
)

// A `record` killed mid-way (SIGKILL: no chance to clean up) leaves its clip
// under a hidden partial name; the next `record` into the same folder finds
// it, renames it to "NAME (recovered).mp4" beside the target, says so in one
// line, and the recovered clip plays.
func TestKilledRecordIsRecoveredByTheNextOne(t *testing.T) {
	if testing.Short() {
		t.Skip("records for several seconds")
	}
	dir := t.TempDir()
	in := filepath.Join(t.TempDir(), "in.mp4")
	makeClip(t, in, 2, 30)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"record", "-model", fixtureModel, "-source", in,
		"-garment", "../inference/testdata/garment.png", "-seconds", "60", "-o", filepath.Join(dir, "killed.mp4")}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "MGVTON_TEST_RUN_MAIN=1")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the clip holds a few fragments (one a second), then kill.
	var partial string
	deadline := time.Now().Add(60 * time.Second)
	for partial == "" || size(partial) < 20<<10 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("record wrote no clip in 60 s (partial %q, %d bytes)", partial, size(partial))
		}
		matches, _ := filepath.Glob(filepath.Join(dir, ".killed.mp4.partial-*.mp4"))
		if len(matches) == 1 {
			partial = matches[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	// ffmpeg, orphaned, finishes the file and exits; its lock goes with it.
	waitUnlocked(t, partial, 30*time.Second)
	t.Logf("killed record left %s (%d bytes)", filepath.Base(partial), size(partial))

	out := filepath.Join(dir, "next.mp4")
	code, stdout, stderr := runExe(t, os.Environ(), "record", "-model", fixtureModel, "-source", in,
		"-garment", "../inference/testdata/garment.png", "-seconds", "1", "-o", out)
	if code != 0 {
		t.Fatalf("second record: exit %d: %s%s", code, stdout, stderr)
	}
	recovered := filepath.Join(dir, "killed (recovered).mp4")
	want := "mgvton: recovered an interrupted recording: " + recovered + "\n"
	if !strings.HasPrefix(stderr, want) {
		t.Errorf("second record's stderr %q; want it to start with %q", stderr, want)
	}
	assertOnly(t, dir, "killed (recovered).mp4", "next.mp4")
	// It plays: OpenCV reads frames from it.
	vc, err := gocv.VideoCaptureFile(recovered)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	img := gocv.NewMat()
	defer img.Close()
	frames := 0
	for vc.Read(&img) && !img.Empty() {
		frames++
	}
	if frames < 30 {
		t.Errorf("recovered clip: OpenCV read %d frames; want at least a second (30)", frames)
	}
	t.Logf("recovered clip: %d frames", frames)
}

func size(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// waitUnlocked waits until no process holds path's writer lock.
func waitUnlocked(t *testing.T, path string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		err = fsutil.LockFile(f)
		f.Close()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still locked %v after its writer was killed", path, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
