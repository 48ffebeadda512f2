package inference

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"mgvton/internal/bundle"
)

// LibraryEnv is the environment variable that names the ONNX Runtime library.
const LibraryEnv = "MGVTON_ORT_LIB"

// ErrNoRuntime means the ONNX Runtime shared library could not be found.
var ErrNoRuntime = errors.New("onnx runtime library not found (set -ort-lib or " + LibraryEnv + "; 'make setup' installs it in lib/)")

var (
	initOnce sync.Once
	initErr  error
	initPath string
)

// LibraryPath returns the ONNX Runtime library to load: explicit if not
// empty, else $MGVTON_ORT_LIB, else the first libonnxruntime.so found in
// lib/ beside the executable, in its parent, or in the working directory.
func LibraryPath(explicit string) (string, error) {
	if explicit != "" {
		return checkFile(explicit)
	}
	if env := os.Getenv(LibraryEnv); env != "" {
		return checkFile(env)
	}
	for _, dir := range bundle.Dirs() {
		p := filepath.Join(dir, "lib", "libonnxruntime.so")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", ErrNoRuntime
}

func checkFile(p string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("onnx runtime library %s: %w", p, err)
	}
	if st.IsDir() {
		return "", fmt.Errorf("onnx runtime library %s: is a directory", p)
	}
	return p, nil
}

// Init loads the ONNX Runtime library and creates its environment, once per
// process. Later calls return the first call's result; a different path
// after a successful start is an error.
func Init(libPath string) error {
	path, err := LibraryPath(libPath)
	if err != nil {
		return fmt.Errorf("inference: %w", err)
	}
	initOnce.Do(func() {
		initPath = path
		ort.SetSharedLibraryPath(path)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			initErr = fmt.Errorf("inference: load onnx runtime %s: %w", path, err)
		}
	})
	if initErr == nil && libPath != "" && path != initPath {
		return fmt.Errorf("inference: onnx runtime already loaded from %s", initPath)
	}
	return initErr
}

// DefaultModelDir returns models/default beside the executable, its parent
// or the working directory, whichever exists first ("models/default" if none).
func DefaultModelDir() string {
	for _, dir := range bundle.Dirs() {
		p := filepath.Join(dir, "models", "default")
		if _, err := os.Stat(filepath.Join(p, ManifestName)); err == nil {
			return p
		}
	}
	return filepath.Join("models", "default")
}
