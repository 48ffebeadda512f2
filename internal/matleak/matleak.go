// Package matleak counts open gocv Mats and turns leaks into test failures.
// It only sees Mats when the binary is built with gocv's matprofile tag
// (go test -tags matprofile); otherwise Count is -1 and the checks pass.
// It is the one leak checker of the project: tests call Check (per test) or
// Open (at the end of TestMain), and `mgvton bench -soak` reports Count.
// It does not import testing, so that commands may use it too.
package matleak

import (
	"fmt"
	"runtime/pprof"
	"strings"
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

// Stacks returns where the open Mats were made ("" without the tag).
func Stacks() string {
	p := pprof.Lookup(profileName)
	if p == nil {
		return ""
	}
	var b strings.Builder
	if err := p.WriteTo(&b, 1); err != nil {
		return fmt.Sprintf("matleak: write profile: %v", err)
	}
	return b.String()
}

// Open returns an error naming the number of open Mats and where they were
// made, or nil when none is open (or Mats are not counted). TestMain calls
// it after m.Run to catch Mats that outlive every test.
func Open() error {
	if n := Count(); n > 0 {
		return fmt.Errorf("%d gocv Mats left open:\n%s", n, Stacks())
	}
	return nil
}

// TB is the part of testing.TB that Check uses.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
}

// Check records the number of open Mats now and fails t at cleanup if it
// changed, listing where the open Mats were made. Call it first in a test,
// so that it runs after the test's other cleanups. Tests that call it must
// not run in parallel with other Mat users.
func Check(t TB) {
	t.Helper()
	before := Count()
	if before < 0 {
		return
	}
	t.Cleanup(func() {
		if after := Count(); after != before {
			t.Errorf("open gocv Mats: got %d after the test; want %d (leak of %d)\n%s", after, before, after-before, Stacks())
		}
	})
}
