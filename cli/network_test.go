package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mgvton/internal/nettrace"
)

// Frames stay on the machine: every command, followed into its children
// (ffmpeg) by strace, opens no socket but local (AF_UNIX) ones.
func TestCommandsOpenNoNetworkSockets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every command under strace")
	}
	strace := nettrace.Strace(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.mp4")
	makeClip(t, in, 1, 30)
	garment := "../inference/testdata/garment.png"
	runs := []struct {
		name string
		args []string
	}{
		{"tryon", []string{"tryon", "-model", fixtureModel, "-person", "../inference/testdata/person.png", "-garment", garment, "-o", filepath.Join(dir, "out.png")}},
		{"video", []string{"video", "-q", "-model", fixtureModel, "-in", in, "-garment", garment, "-o", filepath.Join(dir, "out.mp4")}},
		{"record", []string{"record", "-model", fixtureModel, "-source", in, "-garment", garment, "-seconds", "1", "-o", filepath.Join(dir, "rec.mp4")}},
		{"bench", []string{"bench", "-model", fixtureModel, "-source", in, "-garment", garment, "-frames", "10", "-offline", "2", "-json"}},
		{"garments", []string{"garments", "list"}},
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "strace.log")
			cmd := nettrace.Command(strace, log, exe, r.args...)
			cmd.Env = append(os.Environ(), "MGVTON_TEST_RUN_MAIN=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("mgvton %s under strace: %v\n%s", r.name, err, out)
			}
			data, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			bad, local := nettrace.Foreign(string(data))
			if len(bad) > 0 {
				t.Errorf("mgvton %s opened or addressed non-local sockets:\n%s", r.name, strings.Join(bad, "\n"))
			}
			t.Logf("mgvton %s: %d local sockets, no other", r.name, local)
		})
	}
}
