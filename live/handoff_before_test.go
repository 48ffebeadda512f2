package live

import (
	"testing"

	"mgvton/inference"
	"mgvton/ui"
)

type handoffBench struct {
	e    *Engine
	conv *converter
}

func newHandoffBench(b *testing.B) *handoffBench {
	return &handoffBench{e: NewEngine(nil, Options{}), conv: newConverter()}
}
func (h *handoffBench) deliver(res inference.Result) { h.e.deliver(h.conv, res, inference.Stats{}) }
func (h *handoffBench) frames() <-chan ui.Frame       { return h.e.Frames() }
func (h *handoffBench) release(ui.Frame)              {}
func (h *handoffBench) close()                        { h.conv.close(); h.e.Close() }
