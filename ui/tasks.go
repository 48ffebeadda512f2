package ui

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
)

// lane runs the window's background calls of one kind (opening a source,
// loading a model, importing...) one at a time on a goroutine it starts on
// demand. A lane that keeps only the latest request drops the ones that
// were still waiting: picking three garments quickly sets the last one, in
// order, without queueing the others.
//
// The goroutine belongs to the Window: it is counted in w.wg and ends when
// the lane is empty; nothing is started once the window is closed.
type lane struct {
	w      *Window
	latest bool // keep only the newest waiting request

	mu      sync.Mutex
	queue   []func()
	running bool
}

func newLane(w *Window, latest bool) *lane { return &lane{w: w, latest: latest} }

// submit queues fn to run off the UI goroutine.
func (l *lane) submit(fn func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w.ctx.Err() != nil {
		return // closed: wg may be waited on already
	}
	if l.latest {
		l.queue = append(l.queue[:0], fn)
	} else {
		l.queue = append(l.queue, fn)
	}
	if l.running {
		return
	}
	l.running = true
	l.w.wg.Add(1)
	go l.run()
}

func (l *lane) run() {
	defer l.w.wg.Done()
	for {
		l.mu.Lock()
		if len(l.queue) == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		fn := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.mu.Unlock()
		fn()
	}
}

// call runs op on lane l, turning a panic into an error, then hands the
// result to done on the UI goroutine. name names the operation in errors
// and logs ("open source").
func (w *Window) call(l *lane, name string, op func() error, done func(error)) {
	l.submit(func() {
		err := protect(name, op)
		if err != nil {
			slog.Warn("ui: engine call failed", "op", name, "err", err)
		}
		if done != nil {
			w.do(func() { done(err) })
		}
	})
}

// protect runs op and converts a panic into an error so that a bug in the
// engine shows as a message instead of taking the app down.
func protect(name string, op func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			slog.Error("ui: panic in engine call", "op", name, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("%s: internal error: %v", name, r)
		}
	}()
	return op()
}

// safely runs a quick engine or catalog call on the UI goroutine, reporting
// a panic as an error dialog instead of crashing.
func (w *Window) safely(name string, op func()) bool {
	err := protect(name, func() error { op(); return nil })
	if err != nil {
		w.showError("Something went wrong", err, "The app keeps running; if this repeats, restart it.")
		return false
	}
	return true
}
