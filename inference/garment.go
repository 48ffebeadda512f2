package inference

import (
	"context"
	"fmt"
	"image"
	"image/color"

	"gocv.io/x/gocv"

	"mgvton/internal/matpool"
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
		if err := s.runWith(ctx, g.t, nil, g.t); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// runWith feeds the stage from src (and, when person is not nil, its
// person tensor from that crop: BGR 8UC3 at the model's input size,
// normalised straight into the bound tensor; the caller keeps it), runs
// it and collects its outputs into dst, holding the stage's lock so that
// concurrent users take turns.
func (s *stage) runWith(ctx context.Context, src tensors, person *gocv.Mat, dst tensors) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.session == nil {
		return ErrClosed
	}
	s.feed(src)
	if person != nil {
		if err := s.fillPerson(*person); err != nil {
			return err
		}
	}
	if err := s.run(ctx); err != nil {
		return err
	}
	s.collect(dst)
	return nil
}

// warp runs the warp stage for a person crop and a garment, into out.
func (m *Model) warp(ctx context.Context, person gocv.Mat, g *Garment, out tensors) error {
	if g.model != m {
		return fmt.Errorf("inference: garment %s was prepared for another model", g.ID)
	}
	return m.stages[StageWarp].runWith(ctx, g.t, &person, out)
}

// gen runs the generation stage for a person crop and a warp result, into
// out.
func (m *Model) gen(ctx context.Context, person gocv.Mat, warp, out tensors) error {
	return m.stages[StageGen].runWith(ctx, warp, &person, out)
}

// fillPerson writes a person crop (BGR 8UC3 at the model's input size)
// into the stage's own person tensor, the one bound to its session, as
// planar RGB in [-1, 1]; a stage without a person input is left alone.
// The caller holds s.mu.
func (s *stage) fillPerson(person gocv.Mat) error {
	dst := s.input(TensorPerson)
	if dst == nil {
		return nil
	}
	return imageToTensor(dst, person)
}

// cropper cuts person boxes out of frames at the model's input size (BGR
// 8UC3 crops, which warp and gen normalise straight into their bound
// person tensors). It owns a scratch Mat for padded boxes, used by one
// goroutine at a time, and a free list of crop Mats that any goroutine may
// give back.
type cropper struct {
	w, h int
	big  gocv.Mat // box-size BGR (padded crops)
	free *matpool.List
}

// cropFree is how many crop Mats the free list keeps: one being cut by
// the display stage, one waiting for the warp stage, one being warped.
const cropFree = 3

func newCropper(w, h int) *cropper {
	return &cropper{w: w, h: h, big: gocv.NewMat(), free: matpool.New(cropFree)}
}

// take returns a crop Mat, reused when one is free.
func (c *cropper) take() gocv.Mat { return c.free.Get() }

// put gives a crop Mat back (closing it when the list is full or the
// cropper closed). Safe from any goroutine.
func (c *cropper) put(m gocv.Mat) { c.free.Put(m) }

// close releases the scratch and the free crop Mats; crops given back
// later are closed by put.
func (c *cropper) close() {
	c.big.Close()
	c.free.Close()
}

// cut resizes the box of frame into dst (BGR 8UC3 at the model's input
// size, reused when it already is); parts of the box outside the frame are
// filled by replicating the frame's edge pixels.
func (c *cropper) cut(dst *gocv.Mat, frame gocv.Mat, box image.Rectangle) error {
	inter := box.Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	if inter.Empty() {
		return fmt.Errorf("inference: crop box %v outside frame %dx%d", box, frame.Cols(), frame.Rows())
	}
	roi := frame.Region(inter)
	defer roi.Close()
	if inter == box {
		resizeTo(dst, roi, c.w, c.h)
	} else {
		gocv.CopyMakeBorder(roi, &c.big, inter.Min.Y-box.Min.Y, box.Max.Y-inter.Max.Y,
			inter.Min.X-box.Min.X, box.Max.X-inter.Max.X, gocv.BorderReplicate, color.RGBA{})
		resizeTo(dst, c.big, c.w, c.h)
	}
	return nil
}

// TryOn dresses a person image that is already a portrait crop (any size;
// it is resized to the model's input) in g and returns the try-on at the
// model's input size. The caller keeps ownership of person and owns the
// returned Mat.
func (m *Model) TryOn(ctx context.Context, person gocv.Mat, g *Garment) (gocv.Mat, error) {
	w, h := m.Size()
	c := newCropper(w, h)
	defer c.close()
	crop := gocv.NewMat()
	defer crop.Close()
	if err := c.cut(&crop, person, image.Rect(0, 0, person.Cols(), person.Rows())); err != nil {
		return gocv.NewMat(), err
	}
	warp, out := tensors{}, tensors{}
	if err := m.warp(ctx, crop, g, warp); err != nil {
		return gocv.NewMat(), err
	}
	if err := m.gen(ctx, crop, warp, out); err != nil {
		return gocv.NewMat(), err
	}
	res := gocv.NewMat()
	if err := tensorToImage(&res, out[TensorTryOn], w, h); err != nil {
		res.Close()
		return gocv.NewMat(), err
	}
	return res, nil
}
