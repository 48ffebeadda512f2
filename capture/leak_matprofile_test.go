//go:build matprofile

package capture

import (
	"bytes"

	"gocv.io/x/gocv"
)

// matLeakCheck is on: built with -tags matprofile.
const matLeakCheck = true

func liveMats() int { return gocv.MatProfile.Count() }

func liveMatStacks() string {
	var b bytes.Buffer
	if err := gocv.MatProfile.WriteTo(&b, 1); err != nil {
		return err.Error()
	}
	return b.String()
}
