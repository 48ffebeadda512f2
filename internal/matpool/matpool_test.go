package matpool

import (
	"testing"

	"mgvton/internal/matleak"
)

// TestListReusesUpToMaxAndClosesTheRest: Mats given back come out again
// (last in, first out); one given back to a full or closed list is closed
// (the leak check fails otherwise).
func TestListReusesUpToMaxAndClosesTheRest(t *testing.T) {
	matleak.Check(t)
	l := New(2)
	a, b, c := l.Get(), l.Get(), l.Get()
	l.Put(a)
	l.Put(b)
	l.Put(c) // full: closed
	if got := l.Get(); got.Ptr() != b.Ptr() {
		t.Error("Get: want the last Mat given back")
	}
	if got := l.Get(); got.Ptr() != a.Ptr() {
		t.Error("Get: want the first Mat given back")
	}
	l.Put(b)
	l.Close() // closes b
	l.Put(a)  // closed list: closed by Put
	d := l.Get()
	d.Close()
}
