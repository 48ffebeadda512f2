package garments

import (
	"fmt"
	"os"
	"testing"

	"mgvton/internal/matleak"
)

// TestMain fails the run when Mats are left open (with -tags matprofile,
// where gocv counts them).
func TestMain(m *testing.M) {
	code := m.Run()
	if err := matleak.Open(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		code = 1
	}
	os.Exit(code)
}
