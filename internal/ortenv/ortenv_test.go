package ortenv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mgvton/internal/repotest"
)

func TestLibraryPath(t *testing.T) {
	dir := t.TempDir()
	if _, err := LibraryPath(filepath.Join(dir, "gone.so")); err == nil || !strings.Contains(err.Error(), "gone.so") {
		t.Errorf("missing explicit library: got %v; want an error naming it", err)
	}
	if _, err := LibraryPath(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("a folder as library: got %v; want 'is a directory'", err)
	}
	t.Setenv(LibraryEnv, "")
	t.Chdir(dir)
	if _, err := LibraryPath(""); !errors.Is(err, ErrNoRuntime) {
		// The test binary's own folder could hold a lib/ only by accident.
		t.Errorf("nothing anywhere: got %v; want ErrNoRuntime", err)
	}
}

func TestInitOnceThenAnyCallerShares(t *testing.T) {
	lib := repotest.LibraryPath(t)
	if err := Init(lib); err != nil {
		t.Fatal(err)
	}
	// A later package that names no library uses the loaded one, even where
	// none could be found.
	t.Setenv(LibraryEnv, "")
	t.Chdir(t.TempDir())
	if err := Init(""); err != nil {
		t.Errorf("Init(\"\") after a load: got %v; want nil", err)
	}
	other := filepath.Join(t.TempDir(), "libonnxruntime.so")
	if err := os.WriteFile(other, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Init(other); err == nil || !strings.Contains(err.Error(), "already loaded") {
		t.Errorf("a second, different library: got %v; want 'already loaded from'", err)
	}
	so, err := SessionOptions(2)
	if err != nil {
		t.Fatal(err)
	}
	so.Destroy()
}

// The tests find the library through repotest, which names the variable
// itself (it may not import this package).
func TestRepotestNamesTheLibraryVariable(t *testing.T) {
	if repotest.LibraryEnv != LibraryEnv {
		t.Errorf("repotest.LibraryEnv = %q; the runtime reads %q", repotest.LibraryEnv, LibraryEnv)
	}
}
