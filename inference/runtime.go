package inference

import (
	"fmt"
	"os"
	"path/filepath"

	"mgvton/internal/bundle"
	"mgvton/internal/ortenv"
)

// LibraryEnv is the environment variable that names the ONNX Runtime library.
const LibraryEnv = ortenv.LibraryEnv

// ErrNoRuntime means the ONNX Runtime shared library could not be found.
var ErrNoRuntime = ortenv.ErrNoRuntime

// LibraryPath returns the ONNX Runtime library to load: explicit if not
// empty, else $MGVTON_ORT_LIB, else the first libonnxruntime.so found in
// lib/ beside the executable, in its parent, or in the working directory.
func LibraryPath(explicit string) (string, error) { return ortenv.LibraryPath(explicit) }

// Init loads the ONNX Runtime library and creates its environment, once per
// process (shared with package person). Later calls return the first
// call's result; a different path after a successful start is an error.
func Init(libPath string) error {
	if err := ortenv.Init(libPath); err != nil {
		return fmt.Errorf("inference: %w", err)
	}
	return nil
}

// Device is where ONNX Runtime sessions run (auto, cpu or cuda).
type Device = ortenv.Device

// The devices a user can ask for.
const (
	DeviceAuto = ortenv.DeviceAuto
	DeviceCPU  = ortenv.DeviceCPU
	DeviceCUDA = ortenv.DeviceCUDA
)

// ErrNoCUDA means CUDA was asked for and cannot be used.
var ErrNoCUDA = ortenv.ErrNoCUDA

// ParseDevice parses "auto", "cpu" or "cuda".
func ParseDevice(s string) (Device, error) { return ortenv.ParseDevice(s) }

// SetDevice chooses the device for every ONNX Runtime session of this process (models
// and person graphs); call it before the first Init.
func SetDevice(d Device) error { return ortenv.SetDevice(d) }

// ChosenDevice returns the device ONNX Runtime sessions run on, why, and the GPU model.
func ChosenDevice() (Device, string, string) { return ortenv.Chosen() }

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

// FindGPU returns the model of the first NVIDIA GPU the driver reports, or "".
func FindGPU() string { return ortenv.FindGPU() }
