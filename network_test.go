package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mgvton/internal/nettrace"
	"mgvton/internal/repotest"
)

// Frames stay on the machine: the app, playing the demo clip through the
// shipped model in a real X window, opens no socket but local ones (the X
// server's). strace follows it and every child.
func TestAppOpensNoNetworkSockets(t *testing.T) {
	if testing.Short() {
		t.Skip("GUI test skipped in -short mode")
	}
	need(t, "Xvfb", "xdotool")
	strace := nettrace.Strace(t)
	display := startXvfb(t)
	home := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(home, "strace.log")
	app := nettrace.Command(strace, log, exe, "-source", "demo")
	app.Env = append(os.Environ(), "MGVTON_TEST_RUN_APP=1", "DISPLAY="+display, "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_DATA_HOME="+filepath.Join(home, ".local/share"),
		"MGVTON_ORT_LIB="+repotest.LibraryPath(t))
	app.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // strace and the app: stopped together
	appLog, _ := os.Create(filepath.Join(home, "app.log"))
	app.Stdout, app.Stderr = appLog, appLog
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		syscall.Kill(-app.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { app.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-app.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	t.Cleanup(stop)
	// Run until the window is up and the model has worked a while.
	var win string
	for i := 0; i < 150 && win == ""; i++ {
		time.Sleep(200 * time.Millisecond)
		cmd := exec.Command("xdotool", "search", "--name", "mgvton")
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		out, _ := cmd.Output()
		win = strings.TrimSpace(string(out))
	}
	if win == "" {
		data, _ := os.ReadFile(filepath.Join(home, "app.log"))
		t.Fatalf("no mgvton window within 30 s; app log:\n%s", data)
	}
	time.Sleep(8 * time.Second)
	stop()
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	bad, local := nettrace.Foreign(string(data))
	if len(bad) > 0 {
		t.Errorf("the app opened or addressed non-local sockets:\n%s", strings.Join(bad, "\n"))
	}
	if local == 0 {
		t.Errorf("no local socket in the trace; want at least the X server's (is strace tracing?)")
	}
	t.Logf("app: %d local sockets, no other", local)
}
