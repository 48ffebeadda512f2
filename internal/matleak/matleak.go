// Package matleak turns gocv Mat leaks into test failures. It only sees
// Mats when the test binary is built with gocv's matprofile tag
// (go test -tags matprofile); otherwise Check does nothing.
package matleak

import (
	"runtime/pprof"
	"testing"
)

const profileName = "gocv.io/x/gocv.Mat"

// Enabled reports whether Mats are being counted.
func Enabled() bool { return pprof.Lookup(profileName) != nil }

// Count returns the number of open Mats, or -1 without the matprofile tag.
func Count() int {
	p := pprof.Lookup(profileName)
	if p == nil {
		return -1
	}
	return p.Count()
}

// Check records the number of open Mats now and fails t at cleanup if it
// changed. Tests that call it must not run in parallel with other Mat users.
func Check(t testing.TB) {
	t.Helper()
	before := Count()
	if before < 0 {
		return
	}
	t.Cleanup(func() {
		if after := Count(); after != before {
			t.Errorf("open gocv Mats: got %d after the test; want %d (leak of %d)", after, before, after-before)
		}
	})
}
