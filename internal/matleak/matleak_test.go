package matleak

import (
	"fmt"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

// recorder is a TB that records failures instead of failing.
type recorder struct {
	cleanups []func()
	errs     []string
}

func (r *recorder) Helper()          {}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) finish() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestCheck(t *testing.T) {
	if !Enabled() {
		t.Skip("Mats are counted only with -tags matprofile")
	}
	t.Run("closed", func(t *testing.T) {
		r := &recorder{}
		Check(r)
		m := gocv.NewMat()
		m.Close()
		r.finish()
		if len(r.errs) != 0 {
			t.Errorf("got %q; want no failure for a closed Mat", r.errs)
		}
	})
	t.Run("leaked", func(t *testing.T) {
		r := &recorder{}
		Check(r)
		m := gocv.NewMat()
		r.finish()
		if err := Open(); err == nil || !strings.Contains(err.Error(), "1 gocv Mats left open") {
			t.Errorf("Open: got %v; want one Mat left open", err)
		}
		m.Close()
		if len(r.errs) != 1 || !strings.Contains(r.errs[0], "leak of 1") || !strings.Contains(r.errs[0], "matleak_test.go") {
			t.Errorf("got %q; want one failure naming the leak and where it was made", r.errs)
		}
		if err := Open(); err != nil {
			t.Errorf("Open after Close: got %v; want nil", err)
		}
	})
}

func TestDisabled(t *testing.T) {
	if Enabled() {
		t.Skip("built with -tags matprofile")
	}
	if got := Count(); got != -1 {
		t.Errorf("Count: got %d; want -1 without the tag", got)
	}
	if err := Open(); err != nil {
		t.Errorf("Open: got %v; want nil without the tag", err)
	}
}
