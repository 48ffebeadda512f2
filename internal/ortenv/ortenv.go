// Package ortenv loads the ONNX Runtime shared library once per process and
// holds the session conventions shared by every package that runs graphs
// (inference, person): no spinning worker threads, explicit thread counts.
package ortenv

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
// It names no command-line flag: commands add their own hint.
var ErrNoRuntime = errors.New("onnx runtime library not found (set " + LibraryEnv + " or put lib/libonnxruntime.so beside the program; 'make setup' installs it)")

var (
	initOnce sync.Once
	initErr  error
	initPath string

	mu      sync.Mutex
	started bool // the environment is up
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
// process. Later calls return the first call's result; a different explicit
// path after a successful start is an error, an empty one uses the loaded
// library. Errors are unprefixed: callers
// add their package's name.
func Init(libPath string) error {
	if libPath == "" {
		mu.Lock()
		done := started
		mu.Unlock()
		if done {
			return nil // already loaded: any library will do
		}
	}
	path, err := LibraryPath(libPath)
	if libPath == "" && os.Getenv(LibraryEnv) == "" {
		mu.Lock()
		d := wanted
		mu.Unlock()
		if g := gpuLibrary(); g != "" && d != DeviceCPU && FindGPU() != "" {
			path, err = g, nil // the GPU build from 'make setup-gpu'
		}
	}
	if err != nil {
		return err
	}
	initOnce.Do(func() {
		initPath = path
		ort.SetSharedLibraryPath(path)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			initErr = fmt.Errorf("load onnx runtime %s: %w", path, err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if err := resolveDevice(path); err != nil {
			initErr = err
			return
		}
		started = true
	})
	if initErr == nil && libPath != "" && path != initPath {
		return fmt.Errorf("onnx runtime already loaded from %s", initPath)
	}
	return initErr
}

// SessionOptions returns session options with the shared conventions:
// intra-op worker threads do not spin while waiting (stages run at the same
// time on their own goroutines, and spinning threads steal each other's
// cores), and threads > 0 sets the intra-op thread count (one inter-op
// thread). The caller destroys the options.
func SessionOptions(threads int) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
		so.Destroy()
		return nil, fmt.Errorf("session options: %w", err)
	}
	if d, _, _ := Chosen(); d == DeviceCUDA {
		if err := appendCUDA(so); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("cuda provider: %w", err)
		}
	}
	if threads > 0 {
		if err := so.SetIntraOpNumThreads(threads); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("threads: %w", err)
		}
		if err := so.SetInterOpNumThreads(1); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("threads: %w", err)
		}
	}
	return so, nil
}
