package ortenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"mgvton/internal/bundle"
)

// Device is where ONNX Runtime sessions run: DeviceAuto chooses, DeviceCPU and DeviceCUDA
// insist.
type Device string

// The devices a user can ask for.
const (
	DeviceAuto Device = "auto"
	DeviceCPU  Device = "cpu"
	DeviceCUDA Device = "cuda"
)

// ErrNoCUDA means CUDA was asked for but cannot be used: no NVIDIA GPU, or a
// runtime library built without the CUDA execution provider.
var ErrNoCUDA = errors.New("device cuda")

// ParseDevice parses a device name as given on a command line.
func ParseDevice(s string) (Device, error) {
	switch d := Device(strings.ToLower(strings.TrimSpace(s))); d {
	case "":
		return DeviceAuto, nil
	case DeviceAuto, DeviceCPU, DeviceCUDA:
		return d, nil
	}
	return "", fmt.Errorf("device %q: want auto, cpu or cuda", s)
}

var (
	wanted  = DeviceAuto // set before Init by SetDevice
	chosen  = DeviceCPU  // resolved by Init
	reason  string       // why chosen, for the user
	gpuName string       // the GPU's model when one was found
)

// SetDevice chooses the device for the ONNX Runtime sessions of this process. It must be
// called before the first Init (later calls are an error: sessions already
// made could not follow).
func SetDevice(d Device) error {
	mu.Lock()
	defer mu.Unlock()
	if started {
		if d == wanted {
			return nil
		}
		return fmt.Errorf("device %s: the runtime already started with %s", d, wanted)
	}
	wanted = d
	return nil
}

// Chosen returns the device ONNX Runtime sessions run on, with a short reason (for
// example "auto: no NVIDIA GPU found") and the GPU model ("" on the CPU).
// Before Init it reports the CPU.
func Chosen() (d Device, why, gpu string) {
	mu.Lock()
	defer mu.Unlock()
	return chosen, reason, gpuName
}

// gpuInfoDir is where the NVIDIA driver describes its GPUs (a variable for
// tests).
var gpuInfoDir = "/proc/driver/nvidia/gpus"

// FindGPU returns the model name of the first NVIDIA GPU the driver reports,
// or "" when there is none.
func FindGPU() string {
	dirs, err := os.ReadDir(gpuInfoDir)
	if err != nil || len(dirs) == 0 {
		return ""
	}
	data, err := os.ReadFile(filepath.Join(gpuInfoDir, dirs[0].Name(), "information"))
	if err != nil {
		return "NVIDIA GPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Model" {
			return strings.TrimSpace(v)
		}
	}
	return "NVIDIA GPU"
}

// gpuLibrary returns the GPU build of the runtime that 'make setup-gpu'
// installs (lib/gpu/libonnxruntime.so beside the executable, its parent or
// the working directory), or "".
func gpuLibrary() string {
	for _, dir := range bundle.Dirs() {
		p := filepath.Join(dir, "lib", "gpu", "libonnxruntime.so")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// resolveDevice decides, after the library is loaded, whether sessions use
// CUDA. Called with mu held.
func resolveDevice(libPath string) error {
	gpu := FindGPU()
	if wanted == DeviceCPU {
		chosen, reason = DeviceCPU, "asked for"
		return nil
	}
	var why string
	switch {
	case gpu == "":
		why = "no NVIDIA GPU found"
	default:
		if err := probeCUDA(); err != nil {
			why = fmt.Sprintf("%s has no usable CUDA provider (%v); 'make setup-gpu' installs one", libPath, err)
		}
	}
	if why == "" {
		chosen, reason, gpuName = DeviceCUDA, string(wanted)+": "+gpu, gpu
		return nil
	}
	if wanted == DeviceCUDA {
		return fmt.Errorf("%w: %s", ErrNoCUDA, why)
	}
	chosen, reason = DeviceCPU, "auto: "+why
	return nil
}

// probeCUDA appends the CUDA provider to throwaway options: it fails when
// the library was built without it or its CUDA libraries do not load.
func probeCUDA() error {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return err
	}
	defer so.Destroy()
	return appendCUDA(so)
}

func appendCUDA(so *ort.SessionOptions) error {
	opts, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return err
	}
	defer opts.Destroy()
	return so.AppendExecutionProviderCUDA(opts)
}
