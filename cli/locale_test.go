package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runExe runs this test binary as mgvton (see TestMain) in a fresh process,
// so that package initialisation happens under env, and returns the exit
// code, stdout and stderr.
func runExe(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(env, "MGVTON_TEST_RUN_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// baseEnv is the environment without any locale variable.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LC_CTYPE":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Under every locale a person may have (C and POSIX with and without a
// codeset, none, a real one) the commands print their own output only:
// Fyne used to log three "Fyne error: Error parsing user locale C" lines
// under LANG=C.UTF-8. A corrupt person photo is named as the person, not as
// a garment.
func TestQuietUnderAnyLocale(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.png")
	os.WriteFile(corrupt, []byte("\x89PNG\r\n\x1a\nthis is not really a png"), 0o644)
	out := filepath.Join(dir, "out.png")
	locales := []struct{ name, lang string }{
		{"unset", ""}, {"C", "LANG=C"}, {"C.UTF-8", "LANG=C.UTF-8"}, {"POSIX", "LANG=POSIX"},
		{"LC_ALL=C.utf8", "LC_ALL=C.utf8"}, {"POSIX.UTF-8", "LANG=POSIX.UTF-8"},
		{"en_US.UTF-8", "LANG=en_US.UTF-8"}, {"de_DE.UTF-8", "LANG=de_DE.UTF-8"},
	}
	for _, loc := range locales {
		t.Run(loc.name, func(t *testing.T) {
			env := baseEnv()
			if loc.lang != "" {
				env = append(env, loc.lang)
			}
			code, stdout, stderr := runExe(t, env, "garments", "list")
			if code != 0 || stderr != "" || stdout == "" {
				t.Errorf("garments list: exit %d, stderr %q, %d bytes of stdout; want exit 0, no stderr, a list", code, stderr, len(stdout))
			}
			code, _, stderr = runExe(t, env, "tryon", "-model", fixtureModel, "-person", corrupt,
				"-garment", "../inference/testdata/garment.png", "-o", out)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code == 0 || len(lines) != 1 {
				t.Fatalf("tryon with a corrupt person: exit %d, stderr %q; want one line", code, stderr)
			}
			if !strings.Contains(stderr, "person: read "+corrupt) || strings.Contains(stderr, "garment") {
				t.Errorf("tryon with a corrupt person: %q; want it to name the person %s and no garment", stderr, corrupt)
			}
		})
	}
}
