package capture

import (
	"fmt"
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

// readDetached runs read (one decode, holding the source's lock) on a
// goroutine of its own and returns its result, or errClosed as soon as done
// is closed. OpenCV's decoders block in C while their input delivers
// nothing, where Go cannot interrupt them; detached, such a read no longer
// holds up the reader or Close: the abandoned goroutine finishes when the C
// call returns (closing the frame it got), or never, when the input never
// delivers again. Documented in docs/reliability.md.
func readDetached(done <-chan struct{}, errClosed error, read func() (Frame, error)) (Frame, error) {
	select {
	case <-done:
		return Frame{}, errClosed
	default:
	}
	type result struct {
		f   Frame
		err error
	}
	ch := make(chan result) // unbuffered: a frame is either taken or closed here
	go func() {
		f, err := read()
		select {
		case ch <- result{f, err}:
		case <-done:
			if err == nil {
				f.Mat.Close()
			}
		}
	}()
	select {
	case r := <-ch:
		return r.f, r.err
	case <-done:
		return Frame{}, errClosed
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
