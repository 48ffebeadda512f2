package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"mgvton/inference"
)

// TestFlagHint: library errors name no flag; the command line adds the one
// that fixes the problem, and keeps the error inspectable.
func TestFlagHint(t *testing.T) {
	if strings.Contains(inference.ErrNoRuntime.Error(), "-ort-lib") {
		t.Errorf("inference.ErrNoRuntime names a flag: %q", inference.ErrNoRuntime)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string // substring of the message; "" means unchanged
	}{
		{"no runtime", inference.ErrNoRuntime, "pass -ort-lib PATH"},
		{"wrapped", fmt.Errorf("inference: %w", inference.ErrNoRuntime), "pass -ort-lib PATH"},
		{"other", fs.ErrNotExist, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := withFlagHint(tc.err)
			if !errors.Is(got, tc.err) {
				t.Errorf("errors.Is(%v, %v) = false; want the hint to wrap the error", got, tc.err)
			}
			if tc.want == "" {
				if got != tc.err {
					t.Errorf("got %v; want %v unchanged", got, tc.err)
				}
			} else if !strings.Contains(got.Error(), tc.want) {
				t.Errorf("got %q; want it to contain %q", got, tc.want)
			}
		})
	}
}
