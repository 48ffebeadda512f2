package capture

import (
	"path/filepath"
	"strings"
	"testing"
	"unsafe"
)

func TestListCameras(t *testing.T) {
	cams, err := ListCameras()
	if err != nil {
		t.Fatalf("ListCameras: %v", err)
	}
	if nodes, _ := filepath.Glob("/dev/video*"); len(nodes) == 0 {
		if len(cams) != 0 || cams == nil {
			t.Errorf("ListCameras without /dev/video*: got %#v; want an empty, non-nil list", cams)
		}
		return
	}
	for _, c := range cams {
		if !strings.HasPrefix(c.Spec, "cam:") || c.Label == "" {
			t.Errorf("got camera %+v; want a label and a cam:N spec", c)
		}
	}
}

func TestV4L2Capability(t *testing.T) {
	if got := unsafe.Sizeof(v4l2Capability{}); got != 104 {
		t.Fatalf("sizeof v4l2_capability: got %d; want 104", got)
	}
	card := func(s string) (b [32]byte) { copy(b[:], s); return b }
	tests := []struct {
		name        string
		c           v4l2Capability
		wantCapture bool
		wantCard    string
	}{
		{"capture node", v4l2Capability{Card: card("HD Webcam C270"), Capabilities: 0x84a00001, DeviceCaps: 0x04200001}, true, "HD Webcam C270"},
		{"metadata node of the same camera", v4l2Capability{Card: card("HD Webcam C270"), Capabilities: 0x84a00001, DeviceCaps: 0x04800000}, false, "HD Webcam C270"},
		{"old driver without device caps", v4l2Capability{Capabilities: 0x05000001}, true, "camera"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.canCapture(); got != tt.wantCapture {
				t.Errorf("canCapture: got %v; want %v", got, tt.wantCapture)
			}
			if got := tt.c.card(); got != tt.wantCard {
				t.Errorf("card: got %q; want %q", got, tt.wantCard)
			}
		})
	}
	if _, err := queryCap("/dev/null"); err == nil {
		t.Error("queryCap(/dev/null): got no error; want ENOTTY")
	}
}
