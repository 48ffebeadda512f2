package main

// The GUI end-to-end test: the real app in a real X window (Xvfb), on the
// demo clip with the shipped model, driven by the keyboard like a person
// would (space starts and stops recording). It checks that the try-on pane
// shows a picture and that the recorded clip plays.

import (
	"bufio"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mgvton/internal/mediatest"
	"mgvton/internal/repotest"
)

func TestMain(m *testing.M) {
	if os.Getenv("MGVTON_TEST_RUN_APP") == "1" {
		main() // the test binary doubles as the app (see startApp)
		return
	}
	os.Exit(m.Run())
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make setup installs it): %v", tool, err)
		}
	}
}

// startXvfb starts a virtual screen and returns its DISPLAY. Xvfb picks a
// free display itself (-displayfd) and is stopped with SIGTERM, so that it
// removes its socket and lock file: a killed Xvfb leaves both behind and the
// display stays taken for every later run on the machine.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w} // fd 3
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			t.Fatal("Xvfb exited without a display")
		}
		return ":" + n
	case <-time.After(10 * time.Second):
		t.Fatal("Xvfb did not start in 10 s")
	}
	return ""
}

func TestAppUnderXvfbRecordsAClip(t *testing.T) {
	if testing.Short() {
		t.Skip("GUI end-to-end test skipped in -short mode")
	}
	need(t, "Xvfb", "xdotool", "import", "ffprobe")
	if _, err := os.Stat("models/default/manifest.json"); err != nil {
		t.Fatalf("the shipped model is missing: %v", err)
	}
	display := startXvfb(t)
	home := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	app := exec.Command(exe, "-source", "demo")
	app.Env = append(os.Environ(), "MGVTON_TEST_RUN_APP=1", "DISPLAY="+display, "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_DATA_HOME="+filepath.Join(home, ".local/share"),
		"MGVTON_ORT_LIB="+repotest.LibraryPath(t))
	logPath := filepath.Join(home, "app.log")
	logFile, _ := os.Create(logPath)
	app.Stdout, app.Stderr = logFile, logFile
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		app.Process.Kill()
		app.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("app log:\n%s", log)
		}
	})
	xdo := func(args ...string) string {
		cmd := exec.Command("xdotool", args...)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		out, _ := cmd.Output()
		return strings.TrimSpace(string(out))
	}
	// Wait for the window, then for the model to load and frames to flow.
	var win string
	for i := 0; i < 100 && win == ""; i++ {
		time.Sleep(200 * time.Millisecond)
		if ids := strings.Fields(xdo("search", "--name", "mgvton")); len(ids) > 0 {
			win = ids[0]
		}
	}
	if win == "" {
		t.Fatal("no mgvton window appeared within 20 s")
	}
	xdo("windowfocus", win)
	time.Sleep(12 * time.Second)

	xdo("key", "--window", win, "space") // start recording
	time.Sleep(3 * time.Second)
	xdo("key", "--window", win, "space") // stop
	time.Sleep(3 * time.Second)

	shot := filepath.Join(home, "screen.png")
	imp := exec.Command("import", "-window", "root", shot)
	imp.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v\n%s", err, out)
	}
	if dst := os.Getenv("MGVTON_SCREENSHOT_OUT"); dst != "" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(dst, data, 0o644)
	}
	checkTryOnPane(t, shot)

	clips, _ := filepath.Glob(filepath.Join(home, "Videos", "*.mp4"))
	if len(clips) != 1 {
		t.Fatalf("clips in ~/Videos: got %v; want one", clips)
	}
	clip := mediatest.Probe(t, clips[0])
	codec, dur := clip.Codec, clip.Duration
	if codec != "h264" || dur < 2 || dur > 4.5 {
		t.Errorf("clip %s: got %s, %.2f s; want h264 of about 3 s", clips[0], codec, dur)
	}
}

// checkTryOnPane asserts that the right half of the video area is a picture
// (strong variation), not a blank or flat pane.
func checkTryOnPane(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	b := img.Bounds()
	// The video panes fill the left ~75% of the window; the try-on pane is
	// the right one of the two. Sample its middle.
	r := image.Rect(b.Dx()*45/100, b.Dy()*35/100, b.Dx()*70/100, b.Dy()*70/100)
	var sum, sum2, n float64
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			v := float64(cr+cg+cb) / 3 / 257
			sum += v
			sum2 += v * v
			n++
		}
	}
	mean := sum / n
	std := math.Sqrt(sum2/n - mean*mean)
	t.Logf("try-on pane %v: mean %.1f, std %.1f", r, mean, std)
	if std < 20 {
		t.Errorf("try-on pane looks blank: std %.1f; want > 20", std)
	}
}
