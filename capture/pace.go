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
