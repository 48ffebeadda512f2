package capture

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"gocv.io/x/gocv"
)

// pacer holds frames back until their PTS comes due on the wall clock.
type pacer struct {
	started bool
	origin  time.Time     // wall time at which base was due
	base    time.Duration // PTS of the frame that started the clock
	timer   *time.Timer
}

// wait blocks until pts is due. It restarts the clock when the source fell
// more than maxLag behind (a slow reader, a stall), so frames never come in a
// burst. It returns false if done was closed first.
func (p *pacer) wait(pts time.Duration, done <-chan struct{}) bool {
	now := time.Now()
	if !p.started {
		p.started, p.origin, p.base = true, now, pts
		return true
	}
	d := p.origin.Add(pts - p.base).Sub(now)
	if d < -maxLag {
		p.origin, p.base = now, pts
		return true
	}
	if d <= 0 {
		return true
	}
	if p.timer == nil {
		p.timer = time.NewTimer(d)
	} else {
		p.timer.Reset(d)
	}
	select {
	case <-p.timer.C:
		return true
	case <-done:
		p.timer.Stop()
		return false
	}
}

// sleep waits for d; false if done was closed first.
func sleep(done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}

// toBGR converts m in place to 8-bit BGR (8UC3) from gray or BGRA.
func toBGR(m *gocv.Mat) error {
	var code gocv.ColorConversionCode
	switch m.Type() {
	case gocv.MatTypeCV8UC3:
		return nil
	case gocv.MatTypeCV8UC1:
		code = gocv.ColorGrayToBGR
	case gocv.MatTypeCV8UC4:
		code = gocv.ColorBGRAToBGR
	default:
		return fmt.Errorf("unsupported pixel type %v", m.Type())
	}
	bgr := gocv.NewMat()
	gocv.CvtColor(*m, &bgr, code)
	if err := m.Close(); err != nil {
		bgr.Close()
		return err
	}
	*m = bgr
	return nil
}

// closeWait bounds how long Close waits for a Read in progress to let go
// of the decoder before it returns and leaves the release to that read.
// A decode takes milliseconds; a read still busy after closeWait is blocked
// in C (a named pipe whose writer stopped, a hung mount, a camera driver
// waiting out its timeout) and may never return.
const closeWait = time.Second

// worker runs the decodes of one source on a goroutine of its own,
// started by the first Read and ended by closing done. OpenCV's decoders
// block in C while their input delivers nothing, where Go cannot interrupt
// them; off the caller's goroutine such a decode no longer holds up the
// reader or Close: Read returns errClosed as soon as done is closed, and
// the abandoned decode finishes when the C call returns (closing the frame
// it got), or never, when the input never delivers again. One long-lived
// goroutine rather than one per Read keeps the decoder's C allocations on
// few threads. Documented in docs/reliability.md.
type worker struct {
	done   <-chan struct{}
	read   func() (Frame, error) // one decode, under the source's lock
	start  sync.Once
	req    chan struct{}
	res    chan decoded  // unbuffered: a frame is either taken or closed by the worker
	exited chan struct{} // closed when the goroutine ended, or by wait if it never started
}

type decoded struct {
	f   Frame
	err error
}

func newWorker(done <-chan struct{}, read func() (Frame, error)) *worker {
	return &worker{done: done, read: read, req: make(chan struct{}), res: make(chan decoded),
		exited: make(chan struct{})}
}

func (w *worker) run() {
	defer close(w.exited)
	// The decoder's C allocations on one thread: woken for every frame, an
	// unlocked goroutine would decode on whichever thread is free, and
	// glibc would keep a warm heap (arena) for each (+30 MB in bench -soak
	// without internal/memtune's arena limit, as in the cli tests).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for {
		select {
		case <-w.req:
		case <-w.done:
			return
		}
		f, err := w.read()
		select {
		case w.res <- decoded{f, err}:
		case <-w.done:
			if err == nil {
				f.Mat.Close()
			}
			return
		}
	}
}

// Read has the worker decode the next frame and returns it, or errClosed
// as soon as done is closed.
func (w *worker) Read(errClosed error) (Frame, error) {
	if closed(w.done) {
		return Frame{}, errClosed
	}
	w.start.Do(func() { go w.run() })
	select {
	case w.req <- struct{}{}:
	case <-w.done:
		return Frame{}, errClosed
	}
	select {
	case r := <-w.res:
		return r.f, r.err
	case <-w.done:
		return Frame{}, errClosed
	}
}

// wait waits, after done was closed, up to d for the worker to end, and
// reports whether it has (true also when it never started).
func (w *worker) wait(d time.Duration) bool {
	w.start.Do(func() { close(w.exited) })
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.exited:
		return true
	case <-t.C:
		return false
	}
}

// closed reports whether done is closed.
func closed(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}
