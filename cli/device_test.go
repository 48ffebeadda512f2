package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mgvton/inference"
)

// Without a GPU, -device cuda is one line that says so and writes nothing;
// -device auto runs on the CPU and says that it does; a wrong name is
// refused before any work.
func TestDeviceFlagWithoutGPU(t *testing.T) {
	if gpu := inference.FindGPU(); gpu != "" {
		t.Skipf("this machine has a GPU (%s): the no-GPU behaviour cannot be seen here", gpu)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out.png")
	person := filepath.Join("..", "inference", "testdata", "person.png")
	args := func(dev string) []string {
		return []string{"tryon", "-device", dev, "-model", fixtureModel, "-person", person,
			"-garment", filepath.Join("..", "inference", "testdata", "garment.png"), "-o", out}
	}
	env := os.Environ()

	code, _, stderr := runExe(t, env, args("cuda")...)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code == 0 || len(lines) != 1 || !strings.Contains(stderr, "device cuda: no NVIDIA GPU found") {
		t.Errorf("-device cuda: exit %d, stderr %q; want one line saying there is no GPU", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("-device cuda failed but %s exists (err %v)", out, err)
	}

	code, _, stderr = runExe(t, env, args("auto")...)
	if code != 0 || !strings.Contains(stderr, "running on cpu (auto: no NVIDIA GPU found)") {
		t.Errorf("-device auto: exit %d, stderr %q; want success on the CPU, said", code, stderr)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("-device auto: no output: %v", err)
	}

	code, _, stderr = runExe(t, env, "tryon", "-device", "gpu", "-person", "nothing", "-garment", "x", "-o", out)
	if code == 0 || !strings.Contains(stderr, `device "gpu": want auto, cpu or cuda`) {
		t.Errorf("-device gpu: exit %d, stderr %q; want the flag refused", code, stderr)
	}
}
