package cli

import (
	"context"
	"fmt"
	"time"

	"mgvton/garments"
	"mgvton/inference"
	"mgvton/person"
)

func init() {
	register("tryon", "dress a person photo in a garment", runTryOn)
}

func runTryOn(args []string) error {
	fs := newFlags("tryon", "-person P -garment G [-mask M] [-model DIR] -o OUT.png")
	var mf modelFlags
	mf.register(fs)
	var pose poseFlag
	pose.register(fs, person.LandmarkFull)
	person := fs.String("person", "", "person photo (JPEG, PNG or WebP)")
	garment := fs.String("garment", "", "garment image file, or the id of a catalog garment")
	maskPath := fs.String("mask", "", "garment mask (white = garment); computed from the image when absent")
	saveMask := fs.String("save-mask", "", "also write the garment mask that was used to this PNG")
	frame := fs.String("frame", "auto", "person framing: auto (whole image if it is a 3:4 portrait), on (find the body with the pose models), off (whole image)")
	out := fs.String("o", "", "output image (.png or .jpg)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *person == "" {
		return fmt.Errorf("-person is required")
	}
	if err := checkOutput(*out, ".png", ".jpg", ".jpeg"); err != nil {
		return err
	}
	if *saveMask != "" {
		if err := checkOutput(*saveMask, ".png"); err != nil {
			return err
		}
	}
	mode, err := framingMode(*frame)
	if err != nil {
		return err
	}
	img, err := garments.ReadImage(*person)
	if err != nil {
		return fmt.Errorf("person: %w", err)
	}
	ctx := context.Background()
	m, err := mf.load()
	if err != nil {
		img.Close()
		return err
	}
	defer m.Close()
	gimg, gmask, err := garmentImage(*garment, *maskPath)
	if err != nil {
		img.Close()
		return err
	}
	defer gimg.Close()
	defer gmask.Close()
	if *saveMask != "" {
		if err := writeImage(*saveMask, gmask); err != nil {
			img.Close()
			return err
		}
	}
	g, err := m.PrepareGarment(ctx, *garment, gimg, gmask)
	if err != nil {
		img.Close()
		return err
	}
	p, err := inference.NewPipeline(m, pose.pipeline(inference.PipelineOptions{Framing: mode}))
	if err != nil {
		img.Close()
		return err
	}
	defer p.Close()
	p.SetGarment(g)
	res, err := p.Process(ctx, inference.Frame{Mat: img, Time: time.Now()})
	if err != nil {
		return err
	}
	defer res.Close()
	if !res.Person {
		return fmt.Errorf("person %s: nobody found (no body detected; try -frame off for a photo that is already a portrait crop)", *person)
	}
	return writeImage(*out, res.TryOn)
}
