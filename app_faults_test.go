package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Without the ONNX Runtime library the app still opens (the camera shows,
// choosing a model says what is missing) instead of refusing to start, and
// it says so on stderr in one line.
func TestAppStartsWithoutONNXRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("GUI test skipped in -short mode")
	}
	need(t, "Xvfb", "xdotool")
	display := startXvfb(t)
	home := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(home, "no", "libonnxruntime.so")
	app := exec.Command(exe, "-source", "demo", "-ort-lib", missing)
	app.Env = append(os.Environ(), "MGVTON_TEST_RUN_APP=1", "DISPLAY="+display, "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_DATA_HOME="+filepath.Join(home, ".local/share"))
	logPath := filepath.Join(home, "app.log")
	logFile, _ := os.Create(logPath)
	app.Stdout, app.Stderr = logFile, logFile
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = app.Wait(); close(exited) }()
	t.Cleanup(func() {
		app.Process.Kill()
		<-exited
	})
	var win string
	for i := 0; i < 150 && win == ""; i++ {
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("the app exited (%v) without the ONNX Runtime library; log:\n%s", waitErr, log)
		case <-time.After(200 * time.Millisecond):
		}
		cmd := exec.Command("xdotool", "search", "--name", "mgvton")
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		out, _ := cmd.Output()
		win = strings.TrimSpace(string(out))
	}
	if win == "" {
		t.Fatal("no mgvton window within 30 s")
	}
	select {
	case <-exited:
		log, _ := os.ReadFile(logPath)
		t.Fatalf("the app exited (%v) after opening its window; log:\n%s", waitErr, log)
	case <-time.After(5 * time.Second):
	}
	log, _ := os.ReadFile(logPath)
	first, _, _ := strings.Cut(string(log), "\n")
	if !strings.Contains(first, missing) || !strings.Contains(first, "opens without try-on") {
		t.Errorf("first line on stderr %q; want it to name %s and say the app opens without try-on", first, missing)
	}
}
