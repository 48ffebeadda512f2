//go:build matprofile

package garments

import (
	"strings"

	"gocv.io/x/gocv"
)

func openMats() int { return gocv.MatProfile.Count() }

func matProfile() string {
	var b strings.Builder
	gocv.MatProfile.WriteTo(&b, 1)
	return b.String()
}
