package live

import (
	"testing"

	"gocv.io/x/gocv"

	"mgvton/inference"
	"mgvton/ui"
)

// BenchmarkUIHandoff times what the live session does with one displayed
// 1280x720 try-on result: BGR->RGBA for the camera and try-on panes, the
// recorder and snapshot sinks (not recording), the hand-off to the window,
// and the window taking and releasing the frame. The result's Mats are
// copies made outside the timer's concern (C memory: not in bytes/op).
func BenchmarkUIHandoff(b *testing.B) {
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(30, 60, 90, 0), 720, 1280, gocv.MatTypeCV8UC3)
	defer frame.Close()
	tryon := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 60, 30, 0), 720, 1280, gocv.MatTypeCV8UC3)
	defer tryon.Close()
	h := newHandoffBench(b)
	defer h.close()
	step := func() {
		res := inference.Result{Frame: frame.Clone(), TryOn: tryon.Clone(), Person: true, Applied: true}
		h.deliver(res)
		f := <-h.frames()
		if f.TryOn == nil || f.Camera.Bounds().Dx() != 1280 {
			b.Fatal("bad frame")
		}
		h.release(f)
	}
	step() // warm-up: per-stream buffers reach their size
	b.ReportAllocs()
	b.SetBytes(1280 * 720 * 3)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
}

// handoffBench drives a Session's display sink without a pipeline.
type handoffBench struct{ s *Session }

func newHandoffBench(testing.TB) *handoffBench {
	return &handoffBench{s: NewSession(SessionOptions{Display: true})}
}
func (h *handoffBench) deliver(res inference.Result) { h.s.deliver(res, inference.Stats{}) }
func (h *handoffBench) frames() <-chan ui.Frame      { return h.s.Frames() }
func (h *handoffBench) release(f ui.Frame)           { f.Release() }
func (h *handoffBench) close()                       { h.s.Close() }
