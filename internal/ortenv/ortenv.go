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
// cores), threads > 0 sets the intra-op thread count (one inter-op
// thread), and on the CPU the memory settings of leanCPU. The caller
// destroys the options.
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
	} else {
		if err := leanCPU(so); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("session options: %w", err)
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

// leanCPU sets a CPU session's memory up for small graphs run over and over
// on one process's several sessions (warp, gen and the person models):
//
//   - no memory pattern: with one, every run takes a single block the size
//     of the whole planned activation set from the session's arena, and the
//     arena (growing by powers of two) keeps a region of that size and the
//     next one up; without it each activation is its own arena chunk,
//     reused between runs;
//   - weights (initializers) outside the arena, allocated at their exact
//     size, instead of in arena regions rounded up to a power of two that
//     stay partly empty for the session's life.
//
// The app window at 1280x720 measured 20-30 MB less (docs/reliability.md)
// at the same frame rates; the arena itself stays on (without it every run
// allocates and faults its activations again: -15% display fps).
func leanCPU(so *ort.SessionOptions) error {
	if err := so.SetMemPattern(false); err != nil {
		return err
	}
	return so.AddSessionConfigEntry("session.use_device_allocator_for_initializers", "1")
}
