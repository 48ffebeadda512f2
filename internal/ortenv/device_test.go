package ortenv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseDevice(t *testing.T) {
	for in, want := range map[string]Device{"": DeviceAuto, "auto": DeviceAuto, "CPU": DeviceCPU, " cuda ": DeviceCUDA} {
		if got, err := ParseDevice(in); err != nil || got != want {
			t.Errorf("ParseDevice(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseDevice("gpu"); err == nil {
		t.Error(`ParseDevice("gpu") succeeded`)
	}
}

// fakeGPU makes the driver's GPU folder a temporary one; model "" means no GPU.
func fakeGPU(t *testing.T, model string) {
	t.Helper()
	dir := t.TempDir()
	if model != "" {
		sub := filepath.Join(dir, "0000:01:00.0")
		os.MkdirAll(sub, 0o755)
		info := "Model: \t\t " + model + "\nIRQ:   \t\t 42\n"
		if err := os.WriteFile(filepath.Join(sub, "information"), []byte(info), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := gpuInfoDir
	gpuInfoDir = dir
	t.Cleanup(func() { gpuInfoDir = old })
}

func TestFindGPU(t *testing.T) {
	fakeGPU(t, "")
	if g := FindGPU(); g != "" {
		t.Errorf("no GPU folder entries: FindGPU() = %q", g)
	}
	fakeGPU(t, "NVIDIA H200")
	if g := FindGPU(); g != "NVIDIA H200" {
		t.Errorf("FindGPU() = %q; want the driver's model line", g)
	}
}

// The device is resolved against the GPU and the loaded library: with the
// CPU-only library of 'make setup' even a present GPU cannot be used, and
// cuda says why while auto falls back to the CPU and says why.
func TestResolveDevice(t *testing.T) {
	if err := Init(""); err != nil {
		t.Skipf("no ONNX Runtime library: %v", err)
	}
	if probeCUDA() == nil {
		t.Skip("the loaded library has a working CUDA provider: the fallback cannot be seen here")
	}
	mu.Lock()
	oldWanted, oldChosen, oldReason, oldGPU := wanted, chosen, reason, gpuName
	mu.Unlock()
	t.Cleanup(func() {
		mu.Lock()
		wanted, chosen, reason, gpuName = oldWanted, oldChosen, oldReason, oldGPU
		mu.Unlock()
	})
	resolve := func(want Device) (Device, string, error) {
		mu.Lock()
		defer mu.Unlock()
		wanted = want
		err := resolveDevice("lib.so")
		return chosen, reason, err
	}
	cases := []struct {
		gpu      string
		want     Device
		chosen   Device
		reason   string // in the reason or the error
		wantsErr bool
	}{
		{"", DeviceCPU, DeviceCPU, "asked for", false},
		{"", DeviceAuto, DeviceCPU, "auto: no NVIDIA GPU found", false},
		{"", DeviceCUDA, "", "device cuda: no NVIDIA GPU found", true},
		{"NVIDIA H200", DeviceAuto, DeviceCPU, "no usable CUDA provider", false},
		{"NVIDIA H200", DeviceCUDA, "", "setup-gpu", true},
	}
	for _, c := range cases {
		fakeGPU(t, c.gpu)
		got, why, err := resolve(c.want)
		if c.wantsErr {
			if err == nil || !errors.Is(err, ErrNoCUDA) || !strings.Contains(err.Error(), c.reason) {
				t.Errorf("gpu %q, %s: err %v; want ErrNoCUDA naming %q", c.gpu, c.want, err, c.reason)
			}
			continue
		}
		if err != nil || got != c.chosen || !strings.Contains(why, c.reason) {
			t.Errorf("gpu %q, %s: %s (%s), %v; want %s with %q", c.gpu, c.want, got, why, err, c.chosen, c.reason)
		}
	}
}
