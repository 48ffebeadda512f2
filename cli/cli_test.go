package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mgvton/internal/matleak"
	"mgvton/internal/mediatest"
	"mgvton/internal/repotest"
)

// The end-to-end tests run the commands in-process with the small fixture
// model of the inference package, on media generated here.
const fixtureModel = "../inference/testdata/tiny"

func TestMain(m *testing.M) {
	if os.Getenv("MGVTON_TEST_RUN_MAIN") == "1" {
		// The test binary doubles as mgvton (see runExe): it links the same
		// packages, so it starts up (package initialisers) like the app.
		os.Exit(Main(os.Args[1:]))
	}
	// The commands and the engine load the runtime library and the person
	// models (framing) themselves: point them at the checkout's.
	repotest.SetEnv()
	// Keep the user's catalog out of the tests.
	dir, err := os.MkdirTemp("", "mgvton-cli-test")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_DATA_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs mgvton with args and returns the exit code and stderr.
func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	code := mainTo(&stderr, args)
	return code, stderr.String()
}

// makeClip writes a test video of n seconds at fps with ffmpeg.
func makeClip(t *testing.T, path string, seconds, fps int) {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i",
		"testsrc=size=320x240:rate="+strconv.Itoa(fps), "-t", strconv.Itoa(seconds), "-pix_fmt", "yuv420p", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
}

// probe returns ffprobe's view of a clip's first video stream.
func probe(t *testing.T, path string) (codec string, fps, duration float64, frames int) {
	t.Helper()
	p := mediatest.Probe(t, path)
	return p.Codec, p.AvgFPS, p.Duration, p.Frames
}

func TestTryOnWritesAnImage(t *testing.T) {
	matleak.Check(t)
	out := filepath.Join(t.TempDir(), "out.png")
	mask := filepath.Join(t.TempDir(), "mask.png")
	code, stderr := run(t, "tryon", "-model", fixtureModel,
		"-person", "../inference/testdata/person.png",
		"-garment", "../inference/testdata/garment.png", "-save-mask", mask, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, p := range []string{out, mask} {
		data, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(data, []byte("\x89PNG")) {
			t.Errorf("%s: not a PNG (%v)", p, err)
		}
	}
}

func TestRealEvalWritesItsReport(t *testing.T) {
	matleak.Check(t)
	in, out := t.TempDir(), t.TempDir()
	data, err := os.ReadFile("../inference/testdata/person.png")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(in, "a.png"), data, 0o644)
	code, stderr := run(t, "realeval", "-q", "-model", fixtureModel, "-in", in,
		"-garment", "../inference/testdata/garment.png", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Summary struct{ Frames int } `json:"summary"`
	}
	js, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &rep); err != nil || rep.Summary.Frames != 1 {
		t.Errorf("report.json: %d frames (%v); want 1", rep.Summary.Frames, err)
	}
	for _, name := range []string{"report.md", "sheet.jpg"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestVideoKeepsRateAndDuration(t *testing.T) {
	matleak.Check(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.mp4"), filepath.Join(dir, "out.mp4")
	makeClip(t, in, 2, 25)
	code, stderr := run(t, "video", "-q", "-model", fixtureModel, "-in", in,
		"-garment", "../inference/testdata/garment.png", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	codec, fps, dur, frames := probe(t, out)
	if codec != "h264" || fps != 25 || frames != 50 {
		t.Errorf("clip: got %s %.3g fps %d frames; want h264 25 fps 50 frames", codec, fps, frames)
	}
	if dur < 2-1.0/25 || dur > 2+1.0/25 {
		t.Errorf("duration: got %.3f s; want 2 s within one frame", dur)
	}
	assertOnly(t, dir, "in.mp4", "out.mp4")
}

func TestRecordFromAFile(t *testing.T) {
	matleak.Check(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.mp4"), filepath.Join(dir, "clip.mp4")
	makeClip(t, in, 1, 30)
	code, stderr := run(t, "record", "-model", fixtureModel, "-source", in,
		"-garment", "../inference/testdata/garment.png", "-seconds", "2", "-side-by-side", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	codec, _, dur, _ := probe(t, out)
	if codec != "h264" || dur < 1.5 || dur > 2.2 {
		t.Errorf("clip: got %s %.2f s; want h264 about 2 s", codec, dur)
	}
}

func TestBenchJSON(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.mp4")
	makeClip(t, in, 1, 30)
	bench := func(extra ...string) map[string]any {
		t.Helper()
		args := append([]string{"bench", "-model", fixtureModel, "-source", in, "-frames", "30", "-offline", "3",
			"-garment", "../inference/testdata/garment.png", "-json"}, extra...)
		stdout := captureStdout(t, func() {
			code, stderr := run(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
		})
		var rep map[string]any
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("bench -json printed %q: %v", stdout, err)
		}
		return rep
	}
	rep := bench()
	for _, k := range []string{"model_fps", "warp_fps", "display_fps", "latency_ms_p50", "latency_ms_p95", "dropped_frames", "peak_rss_mb", "pose_model"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("bench -json: key %q missing in %v", k, rep)
		}
	}
	if v, _ := rep["model_fps"].(float64); v <= 0 {
		t.Errorf("model_fps: got %v; want > 0", rep["model_fps"])
	}
	// The live default is the lite landmark model; -pose full reaches the
	// tracker too.
	if got := rep["pose_model"]; got != "lite" {
		t.Errorf("bench: pose_model %v; want lite (the live default)", got)
	}
	if got := bench("-pose", "full", "-frames", "10")["pose_model"]; got != "full" {
		t.Errorf("bench -pose full: pose_model %v; want full", got)
	}
}

// A wrong -pose is refused while the flags are parsed (as -device is): the
// first line of stderr names the flag and the choices, nothing runs.
func TestPoseFlagRefusesBadValue(t *testing.T) {
	for _, cmd := range []string{"tryon", "video", "realeval", "record", "bench", "app"} {
		code, _, stderr := runExe(t, os.Environ(), cmd, "-pose", "medium")
		first, _, _ := strings.Cut(stderr, "\n")
		if code != 2 || first != `invalid value "medium" for flag -pose: pose "medium": want lite or full` {
			t.Errorf("%s -pose medium: exit %d, stderr %q; want the flag refused", cmd, code, stderr)
		}
	}
}

func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		var b bytes.Buffer
		b.ReadFrom(r)
		done <- b.String()
	}()
	defer func() { os.Stdout = old }()
	f()
	w.Close()
	os.Stdout = old
	return <-done
}

// assertOnly fails unless dir holds exactly the named files (no partials).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("folder holds %v; want %v", got, names)
	}
}

func TestBadInputGivesOneLineAndNoOutput(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.png")
	os.WriteFile(corrupt, []byte("\x89PNG\r\n\x1a\nthis is not really a png"), 0o644)
	bomb := filepath.Join(dir, "bomb.png")
	os.WriteFile(bomb, pngHeader(100000, 100000), 0o644)
	truncated := filepath.Join(dir, "cut.mp4")
	makeClip(t, filepath.Join(dir, "whole.mp4"), 2, 30)
	whole, _ := os.ReadFile(filepath.Join(dir, "whole.mp4"))
	os.WriteFile(truncated, whole[:len(whole)/3], 0o644)
	os.Remove(filepath.Join(dir, "whole.mp4"))
	badModel := filepath.Join(dir, "model")
	os.Mkdir(badModel, 0o755)
	os.WriteFile(filepath.Join(badModel, "manifest.json"), []byte(`{"format": 1}`), 0o644)

	person, garment := "../inference/testdata/person.png", "../inference/testdata/garment.png"
	out := filepath.Join(dir, "out.png")
	vout := filepath.Join(dir, "out.mp4")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing person", []string{"tryon", "-model", fixtureModel, "-person", filepath.Join(dir, "nope.png"), "-garment", garment, "-o", out}, "nope.png"},
		{"corrupt person", []string{"tryon", "-model", fixtureModel, "-person", corrupt, "-garment", garment, "-o", out}, "corrupt.png"},
		{"decompression bomb", []string{"tryon", "-model", fixtureModel, "-person", bomb, "-garment", garment, "-o", out}, "bomb.png"},
		{"not an image", []string{"tryon", "-model", fixtureModel, "-person", "cli_test.go", "-garment", garment, "-o", out}, "not a JPEG, PNG or WebP"},
		{"corrupt garment", []string{"tryon", "-model", fixtureModel, "-person", person, "-garment", corrupt, "-o", out}, "corrupt.png"},
		{"unknown garment id", []string{"tryon", "-model", fixtureModel, "-person", person, "-garment", "no-such-shirt", "-o", out}, "no-such-shirt"},
		{"missing model", []string{"tryon", "-model", filepath.Join(dir, "nomodel"), "-person", person, "-garment", garment, "-o", out}, "nomodel"},
		{"model without stages", []string{"tryon", "-model", badModel, "-person", person, "-garment", garment, "-o", out}, "manifest.json"},
		{"output folder missing", []string{"tryon", "-model", fixtureModel, "-person", person, "-garment", garment, "-o", filepath.Join(dir, "no", "out.png")}, "no"},
		{"output extension", []string{"tryon", "-model", fixtureModel, "-person", person, "-garment", garment, "-o", filepath.Join(dir, "out.gif")}, "out.gif"},
		{"missing video", []string{"video", "-model", fixtureModel, "-in", filepath.Join(dir, "none.mp4"), "-garment", garment, "-o", vout}, "none.mp4"},
		{"truncated video", []string{"video", "-q", "-model", fixtureModel, "-in", truncated, "-garment", garment, "-o", vout}, "cut.mp4"},
		{"video to png", []string{"video", "-model", fixtureModel, "-in", truncated, "-garment", garment, "-o", out}, "out.png"},
		{"realeval missing input", []string{"realeval", "-model", fixtureModel, "-in", filepath.Join(dir, "nophotos"), "-garment", garment, "-o", filepath.Join(dir, "re")}, "nophotos"},
		{"realeval corrupt photo", []string{"realeval", "-q", "-model", fixtureModel, "-in", dir, "-garment", garment, "-o", filepath.Join(dir, "re")}, "bomb.png"},
		{"realeval bad paste", []string{"realeval", "-model", fixtureModel, "-in", dir, "-garment", garment, "-paste", "half", "-o", filepath.Join(dir, "re")}, "half"},
		{"bad flag", []string{"tryon", "-bogus"}, ""},
		{"unknown command", []string{"dance"}, "dance"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stderr := run(t, c.args...)
			if code == 0 {
				t.Fatalf("exit 0; want an error (stderr %q)", stderr)
			}
			if c.want != "" {
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				if len(lines) != 1 {
					t.Errorf("stderr has %d lines; want one: %q", len(lines), stderr)
				}
				if !strings.Contains(stderr, c.want) {
					t.Errorf("stderr %q; want it to name %q", stderr, c.want)
				}
			}
			for _, p := range []string{out, vout} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s was left behind", p)
				}
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), "partial") {
					t.Errorf("partial file %s left behind", e.Name())
				}
			}
		})
	}
}

// pngHeader is the start of a PNG claiming w x h pixels, with no pixel data.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
	b = append(b, byte(w>>24), byte(w>>16), byte(w>>8), byte(w), byte(h>>24), byte(h>>16), byte(h>>8), byte(h), 8, 2, 0, 0, 0)
	return append(b, 0, 0, 0, 0) // CRC (not checked before the size)
}

func TestAppWithoutADisplaySaysSo(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	code, stderr := run(t)
	if code == 0 || !strings.Contains(stderr, "no display") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("app without a display: exit %d, stderr %q; want a one-line 'no display' error", code, stderr)
	}
}

// record from a source that stalls before -seconds are over (a named pipe
// whose writer stops) ends at its deadline with the frames that came,
// instead of waiting for the writer for good.
func TestRecordFromAStalledPipe(t *testing.T) {
	matleak.Check(t)
	dir := t.TempDir()
	video, fifo, out := filepath.Join(dir, "in.mkv"), filepath.Join(dir, "live.mkv"), filepath.Join(dir, "clip.mp4")
	// Noise makes the bytes follow the time closely (about 0.9 MB a
	// second), so that the pipe's and the decoder's buffers hold little.
	cmd := exec.Command("ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30",
		"-t", "10", "-vf", "noise=alls=40:allf=t", "-pix_fmt", "yuv420p", video)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	data, err := os.ReadFile(video)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	mats := matleak.Count()
	release := make(chan struct{})
	writer := make(chan struct{})
	go func() {
		defer close(writer)
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		f.Write(data[:len(data)/10]) // about a second, then nothing
		<-release
	}()
	defer func() {
		close(release)
		if f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close() // lets a writer that no reader took go
		}
		<-writer
		// The read that record's Close abandoned ends now that the writer
		// closed the pipe, and closes its frame.
		for end := time.Now().Add(10 * time.Second); matleak.Count() > mats && time.Now().Before(end); {
			time.Sleep(20 * time.Millisecond)
		}
	}()
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stderr := run(t, "record", "-model", fixtureModel, "-source", fifo,
			"-garment", "../inference/testdata/garment.png", "-seconds", "4", "-o", out)
		done <- result{code, stderr}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("record -seconds 4 from a stalled pipe still running after 60 s")
	}
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, _, _, frames := probe(t, out); frames < 1 {
		t.Errorf("clip has %d frames; want those that came before the stall", frames)
	}
}
