package capture

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"github.com/pion/mediadevices"
	"github.com/pion/mediadevices/pkg/driver"
	"github.com/pion/mediadevices/pkg/driver/camera" // V4L2 driver; needs only kernel headers
)

// Camera is a camera that Open can read from.
type Camera struct {
	Label string // for people: "HD Webcam C270 (/dev/video0)"
	Spec  string // for Open: "cam:0"
}

// listMu serialises rescans: camera.Initialize rebuilds a global registry.
var listMu sync.Mutex

// ListCameras returns the video capture devices present now, in device
// order. With no camera (or no V4L2 at all) it returns an empty list and no
// error.
//
// Devices come from pion/mediadevices, rescanned on every call so that
// cameras plugged in later appear. Its labels have the form
// "<by-id name or videoN>;videoN"; the part after the separator is the
// /dev/videoN node, which is also the index OpenCV's V4L2 backend opens for
// "cam:N". The human label is the card name the driver reports
// (VIDIOC_QUERYCAP), which mediadevices does not expose. Nodes that cannot
// capture video are dropped: UVC webcams register a second /dev/video node
// for metadata, which would otherwise appear as a duplicate camera that
// never opens. A node we may not open (permission) is kept, labelled with
// its by-id name, so that Open can explain the problem.
//
// The rescan rebuilds mediadevices' global driver registry
// (camera.Initialize); this package reads cameras with OpenCV, not through
// that registry, but other code holding mediadevices tracks would see its
// drivers replaced.
func ListCameras() ([]Camera, error) {
	listMu.Lock()
	camera.Initialize()
	devices := mediadevices.EnumerateDevices()
	listMu.Unlock()

	type entry struct {
		n   int
		cam Camera
	}
	var found []entry
	for _, d := range devices {
		if d.Kind != mediadevices.VideoInput || d.DeviceType != driver.Camera {
			continue
		}
		byID, node, ok := strings.Cut(d.Label, camera.LabelSeparator)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(node, "video"))
		if !strings.HasPrefix(node, "video") || err != nil {
			continue
		}
		path := "/dev/" + node
		name := byID
		if c, err := queryCap(path); err == nil {
			if !c.canCapture() {
				continue
			}
			name = c.card()
		}
		found = append(found, entry{n, Camera{Label: fmt.Sprintf("%s (%s)", name, path), Spec: fmt.Sprintf("cam:%d", n)}})
	}
	slices.SortFunc(found, func(a, b entry) int { return cmp.Compare(a.n, b.n) })
	cams := make([]Camera, 0, len(found))
	for _, e := range found {
		cams = append(cams, e.cam)
	}
	return cams, nil
}

// v4l2Capability is struct v4l2_capability from <linux/videodev2.h>.
type v4l2Capability struct {
	Driver       [16]byte
	Card         [32]byte
	BusInfo      [32]byte
	Version      uint32
	Capabilities uint32
	DeviceCaps   uint32
	Reserved     [3]uint32
}

const (
	vidiocQuerycap  = 0x80685600 // _IOR('V', 0, struct v4l2_capability)
	capVideoCapture = 0x00000001 // V4L2_CAP_VIDEO_CAPTURE
	capDeviceCaps   = 0x80000000 // V4L2_CAP_DEVICE_CAPS: DeviceCaps is valid
)

// canCapture reports whether this node (not just its device) captures video.
func (c *v4l2Capability) canCapture() bool {
	caps := c.Capabilities
	if caps&capDeviceCaps != 0 {
		caps = c.DeviceCaps
	}
	return caps&capVideoCapture != 0
}

func (c *v4l2Capability) card() string {
	name, _, _ := bytes.Cut(c.Card[:], []byte{0})
	if len(name) == 0 {
		return "camera"
	}
	return string(name)
}

func queryCap(path string) (*v4l2Capability, error) {
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd) // read-only use: nothing to flush, a close error changes nothing
	var c v4l2Capability
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), vidiocQuerycap, uintptr(unsafe.Pointer(&c))); errno != 0 {
		return nil, errno
	}
	return &c, nil
}
