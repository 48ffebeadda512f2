package inference

import (
	"context"
	"image"
	"testing"

	"gocv.io/x/gocv"
)

// demoFrame returns a frame of the demo clip (640x480, one person), closed
// at the end of the test or benchmark.
func demoFrame(b testing.TB) gocv.Mat {
	b.Helper()
	vc, err := gocv.VideoCaptureFile("../assets/demo.mp4")
	if err != nil {
		b.Skipf("demo clip: %v", err)
	}
	defer vc.Close()
	m := gocv.NewMat()
	for i := 0; i < 30; i++ { // a second in: the person is in the picture
		if !vc.Read(&m) || m.Empty() {
			m.Close()
			b.Skip("demo clip: no frame")
		}
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// BenchmarkDisplayStage times the per-frame work of the live display stage
// other than the generator: person framing (pose models), crop to the model input, paste-back
// of the try-on, and the frame copy the result keeps.
func BenchmarkDisplayStage(b *testing.B) {
	frame := demoFrame(b)
	f := newTestFramer(b, DefaultFraming())
	box, ok, err := f.Box(frame)
	if err != nil || !ok {
		b.Fatal("no person in the demo frame")
	}
	c := newCropper(192, 256)
	defer c.close()
	crop := gocv.NewMat()
	defer crop.Close()
	person := make([]float32, 3*192*256) // stands in for a session's bound person tensor
	load := func() error {
		if err := c.cut(&crop, frame, box); err != nil {
			return err
		}
		return imageToTensor(person, crop)
	}
	if err := load(); err != nil {
		b.Fatal(err)
	}
	tryon := append([]float32(nil), person...)
	b.Run("framing", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, _, err := f.Box(frame); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("crop", func(b *testing.B) { // cut and normalise into the person tensor
		for i := 0; i < b.N; i++ {
			if err := load(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("paste", func(b *testing.B) {
		dst := frame.Clone()
		defer dst.Close()
		comp := NewCompositor(192, 256)
		defer comp.Close()
		out := tensors{TensorTryOn: tryon}
		if err := comp.Composite(&dst, out, nil, box, nil); err != nil { // warm-up: the feather's alpha ramp
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := comp.Composite(&dst, out, nil, box, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("clone", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			m := frame.Clone()
			m.Close()
		}
	})
}

// BenchmarkDisplayFrame times the live display stage as it runs for every
// shown frame (dressFrame: crop, hand-off to the warp stage, gen with the
// latest warp, paste-back into the result) on a 1280x720 frame with the
// fixture model and framing off. The frame copy stands in for the camera
// read (C memory: not in bytes/op).
func BenchmarkDisplayFrame(b *testing.B) {
	m := loadFixture(b, fixtureDir)
	p, err := NewPipeline(m, PipelineOptions{Framing: FramingOff})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	g := fixtureGarment(b, m)
	p.SetGarment(g)
	// The live slots without the stage goroutines: the warp result is
	// made once, up front.
	p.makeSlots()
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(30, 60, 90, 0), 720, 1280, gocv.MatTypeCV8UC3)
	defer frame.Close()
	crop := p.crop.take()
	if err := p.crop.cut(&crop, frame, image.Rect(0, 0, 1280, 720)); err != nil {
		b.Fatal(err)
	}
	warp := tensors{}
	if err := m.warp(context.Background(), crop, g, warp); err != nil {
		b.Fatal(err)
	}
	p.crop.put(crop)
	p.latest.warp, p.latest.garment = &warpOut{t: warp, refs: 1}, g
	gen := tensors{}
	step := func(i int) {
		res, err := p.dressFrame(context.Background(), Frame{Mat: frame.Clone(), Seq: int64(i)}, gen, true)
		if err != nil {
			b.Fatal(err)
		}
		if !res.Applied {
			b.Fatal("not applied")
		}
		res.Close()
		p.warpIn.drain()
	}
	step(-1) // warm-up: per-stream buffers (gen outputs, feather) reach their size
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step(i)
	}
}
