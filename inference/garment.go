package inference

import (
	"context"
	"fmt"
	"image"
	"image/color"

	"gocv.io/x/gocv"
)

// Garment is a garment prepared for one model: its image and mask as
// tensors at the model's input size, plus the cached outputs of the
// optional garment stage.
type Garment struct {
	ID    string
	model *Model
	t     tensors
}

// PrepareGarment converts a garment image (BGR) and its mask (8-bit, 0 =
// background) to the model's tensors and runs the garment stage if the model
// has one. The caller keeps ownership of img and mask.
func (m *Model) PrepareGarment(ctx context.Context, id string, img, mask gocv.Mat) (*Garment, error) {
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("inference: garment %s: want a BGR image", id)
	}
	if mask.Empty() || mask.Type() != gocv.MatTypeCV8UC1 {
		return nil, fmt.Errorf("inference: garment %s: want an 8-bit single-channel mask", id)
	}
	w, h := m.Size()
	g := &Garment{ID: id, model: m, t: tensors{
		TensorGarment:     make([]float32, 3*w*h),
		TensorGarmentMask: make([]float32, w*h),
	}}
	scratch := gocv.NewMat()
	defer scratch.Close()
	resizeTo(&scratch, img, w, h)
	if err := imageToTensor(g.t[TensorGarment], scratch); err != nil {
		return nil, err
	}
	resizeTo(&scratch, mask, w, h)
	if err := maskToTensor(g.t[TensorGarmentMask], scratch); err != nil {
		return nil, err
	}
	if s := m.stages[StageGarment]; s != nil {
		if err := s.runWith(ctx, g.t, g.t); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// runWith feeds the stage from src, runs it and collects its outputs into
// dst, holding the stage's lock so that concurrent users take turns.
func (s *stage) runWith(ctx context.Context, src, dst tensors) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.session == nil {
		return ErrClosed
	}
	s.feed(src)
	if err := s.run(ctx); err != nil {
		return err
	}
	s.collect(dst)
	return nil
}

// warp runs the warp stage for a person tensor and a garment into out.
func (m *Model) warp(ctx context.Context, person []float32, g *Garment, out tensors) error {
	if g.model != m {
		return fmt.Errorf("inference: garment %s was prepared for another model", g.ID)
	}
	s := m.stages[StageWarp]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.session == nil {
		return ErrClosed
	}
	s.feed(g.t)
	copy(s.input(TensorPerson), person)
	if err := s.run(ctx); err != nil {
		return err
	}
	s.collect(out)
	return nil
}

// gen runs the generation stage for a person tensor and a warp result.
func (m *Model) gen(ctx context.Context, person []float32, warp, out tensors) error {
	s := m.stages[StageGen]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.session == nil {
		return ErrClosed
	}
	s.feed(warp)
	copy(s.input(TensorPerson), person)
	if err := s.run(ctx); err != nil {
		return err
	}
	s.collect(out)
	return nil
}

// cropper turns a frame region into the person tensor and the try-on tensor
// back into pixels; it owns reusable scratch Mats (one per goroutine).
type cropper struct {
	w, h   int
	person []float32
	small  gocv.Mat // model-size BGR
	big    gocv.Mat // box-size BGR (padded crops)
}

func newCropper(w, h int) *cropper {
	return &cropper{w: w, h: h, person: make([]float32, 3*w*h), small: gocv.NewMat(), big: gocv.NewMat()}
}

func (c *cropper) close() {
	c.small.Close()
	c.big.Close()
}

// load fills c.person from the box of frame; parts of the box outside the
// frame are filled by replicating the frame's edge pixels.
func (c *cropper) load(frame gocv.Mat, box image.Rectangle) error {
	inter := box.Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	if inter.Empty() {
		return fmt.Errorf("inference: crop box %v outside frame %dx%d", box, frame.Cols(), frame.Rows())
	}
	roi := frame.Region(inter)
	defer roi.Close()
	if inter == box {
		resizeTo(&c.small, roi, c.w, c.h)
	} else {
		gocv.CopyMakeBorder(roi, &c.big, inter.Min.Y-box.Min.Y, box.Max.Y-inter.Max.Y,
			inter.Min.X-box.Min.X, box.Max.X-inter.Max.X, gocv.BorderReplicate, color.RGBA{})
		resizeTo(&c.small, c.big, c.w, c.h)
	}
	return imageToTensor(c.person, c.small)
}

// TryOn dresses a person image that is already a portrait crop (any size;
// it is resized to the model's input) in g and returns the try-on at the
// model's input size. The caller keeps ownership of person and owns the
// returned Mat.
func (m *Model) TryOn(ctx context.Context, person gocv.Mat, g *Garment) (gocv.Mat, error) {
	w, h := m.Size()
	c := newCropper(w, h)
	defer c.close()
	if err := c.load(person, image.Rect(0, 0, person.Cols(), person.Rows())); err != nil {
		return gocv.NewMat(), err
	}
	warp, out := tensors{}, tensors{}
	if err := m.warp(ctx, c.person, g, warp); err != nil {
		return gocv.NewMat(), err
	}
	if err := m.gen(ctx, c.person, warp, out); err != nil {
		return gocv.NewMat(), err
	}
	res := gocv.NewMat()
	if err := tensorToImage(&res, out[TensorTryOn], w, h); err != nil {
		res.Close()
		return gocv.NewMat(), err
	}
	return res, nil
}
