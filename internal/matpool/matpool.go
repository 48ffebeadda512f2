// Package matpool is a bounded free list of gocv Mats: a producer takes
// Mats to fill (decoded frames, person crops), and whoever is done with one
// gives it back from any goroutine, so buffers are reused instead of
// allocated for every frame.
package matpool

import (
	"sync"

	"gocv.io/x/gocv"
)

// List keeps up to a fixed number of Mats given back. Safe for concurrent
// use.
type List struct {
	max    int
	mu     sync.Mutex
	free   []gocv.Mat
	closed bool
}

// New returns a list that keeps at most max Mats.
func New(max int) *List { return &List{max: max} }

// Get returns a Mat given back earlier, or a new empty one.
func (l *List) Get() gocv.Mat {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.free); n > 0 {
		m := l.free[n-1]
		l.free = l.free[:n-1]
		return m
	}
	return gocv.NewMat()
}

// Put gives m back; the caller no longer touches it. It is closed instead
// when the list is full or closed.
func (l *List) Put(m gocv.Mat) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || len(l.free) >= l.max {
		m.Close()
		return
	}
	l.free = append(l.free, m)
}

// Close closes the Mats the list keeps; Mats given back later are closed
// by Put.
func (l *List) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for _, m := range l.free {
		m.Close()
	}
	l.free = nil
}
