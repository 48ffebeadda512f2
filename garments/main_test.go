package garments

import (
	"fmt"
	"os"
	"testing"
)

// TestMain fails the run when Mats are left open (with -tags matprofile,
// where gocv counts them; without the tag openMats reports -1).
func TestMain(m *testing.M) {
	code := m.Run()
	if n := openMats(); n > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d gocv Mats left open:\n%s\n", n, matProfile())
		code = 1
	}
	os.Exit(code)
}
