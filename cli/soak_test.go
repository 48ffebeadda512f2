package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Soak bounds, after warm-up (see soakReport), for 3,000 frames of the live
// pipeline with the fixture model. Mats and goroutines may differ by what
// is in flight at the moment of a sample (a frame in each stage's slot).
const (
	soakFrames        = 3000
	soakMaxRSSGrowth  = 20.0 // MB
	soakMaxGoroutines = 2
	soakMaxMats       = 6
)

func TestSoakStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 3,000 frames")
	}
	// A 3:4 portrait clip: the pipeline takes such frames whole, so the
	// warp stage runs (on a landscape test pattern nobody is found).
	in := filepath.Join(t.TempDir(), "in.mp4")
	if out, err := exec.Command("ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=192x256:rate=30",
		"-t", "2", "-pix_fmt", "yuv420p", in).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	code, stdout, stderr := runExe(t, os.Environ(), "bench", "-model", fixtureModel, "-source", in,
		"-garment", "../inference/testdata/garment.png", "-soak", "3000", "-json")
	if code != 0 {
		t.Fatalf("bench -soak: exit %d: %s", code, stderr)
	}
	var r soakReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("bench -soak -json: %v: %q", err, stdout)
	}
	for _, s := range r.Samples {
		t.Logf("frame %5d  %5.1f s  rss %6.1f MB  heap %5.1f MB  goroutines %3d  mats %3d", s.Frame, s.Seconds, s.RSSMB, s.HeapMB, s.Goroutines, s.Mats)
	}
	t.Logf("growth: RSS %+.1f MB, heap %+.1f MB, goroutines %+d, Mats %+d; goroutines %d before, %d after; %d warp runs",
		r.RSSGrowthMB, r.HeapGrowthMB, r.GoroutineGrowth, r.MatGrowth, r.GoroutinesBefore, r.GoroutinesAfter, r.WarpRuns)
	if r.Frames != soakFrames || len(r.Samples) != 20 {
		t.Fatalf("soak ran %d frames with %d samples; want %d and 20", r.Frames, len(r.Samples), soakFrames)
	}
	if r.PoseModel != "lite" {
		t.Errorf("pose_model %q; want lite, the live default", r.PoseModel)
	}
	// How often the warp stage runs depends on the machine and on who the
	// person stage finds in the test pattern; it must run, that is all.
	if r.WarpRuns < 10 {
		t.Errorf("the warp stage ran %d times; want the model at work (at least 10 runs)", r.WarpRuns)
	}
	if r.Samples[0].Mats < 0 {
		t.Error("Mats not counted: the test binary must be built with -tags matprofile")
	}
	if r.RSSGrowthMB > soakMaxRSSGrowth {
		t.Errorf("RSS grew %.1f MB after warm-up; bound %.0f MB", r.RSSGrowthMB, soakMaxRSSGrowth)
	}
	if r.GoroutineGrowth > soakMaxGoroutines || r.GoroutinesAfter > r.GoroutinesBefore+soakMaxGoroutines {
		t.Errorf("goroutines: %+d during the run, %d before and %d after; bound %d", r.GoroutineGrowth, r.GoroutinesBefore, r.GoroutinesAfter, soakMaxGoroutines)
	}
	if r.MatGrowth > soakMaxMats {
		t.Errorf("open Mats grew by %d; bound %d", r.MatGrowth, soakMaxMats)
	}
}

// TestSoakStopsOnInterruptWithItsReport: Ctrl-C ends a long soak early, and
// it still prints what it measured (a one-hour run is not lost to a key).
func TestSoakStopsOnInterruptWithItsReport(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "in.mp4")
	if out, err := exec.Command("ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=192x256:rate=30",
		"-t", "2", "-pix_fmt", "yuv420p", in).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	cmd := exec.Command(exe, "bench", "-model", fixtureModel, "-source", in,
		"-garment", "../inference/testdata/garment.png", "-soak", "100000000", "-realtime", "-json")
	cmd.Env = append(os.Environ(), "MGVTON_TEST_RUN_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Second) // the models load, then frames run
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("bench -soak after Ctrl-C: %v: %s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("bench -soak did not stop within 60 s of Ctrl-C")
	}
	var r soakReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("bench -soak -json after Ctrl-C: %v: %q", err, stdout.String())
	}
	if !r.Interrupted || !r.RealTime || r.Frames <= 0 || len(r.Samples) == 0 || r.Samples[len(r.Samples)-1].Frame > r.Frames {
		t.Errorf("report after Ctrl-C: interrupted %v realtime %v frames %d samples %d; want an interrupted real-time run with frames and samples of no more frames than ran",
			r.Interrupted, r.RealTime, r.Frames, len(r.Samples))
	}
}
