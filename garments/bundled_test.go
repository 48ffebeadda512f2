package garments

import (
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"
)

// TestBundledCatalog checks the catalog shipped in assets/garments (when it
// exists): it loads, every garment is a 3:4 image with a same-size mask and
// a thumbnail, and it reports how the automatic mask compares with the
// shipped masks.
func TestBundledCatalog(t *testing.T) {
	dir := filepath.Join("..", "assets", "garments")
	if _, err := os.Stat(filepath.Join(dir, CatalogFile)); err != nil {
		t.Skipf("no bundled catalog in %s", dir)
	}
	lib, err := OpenLibrary(dir, "")
	if err != nil {
		t.Fatalf("OpenLibrary: %v", err)
	}
	list := lib.List()
	if len(list) == 0 {
		t.Fatalf("the bundled catalog is empty")
	}
	sum := 0.0
	for _, g := range list {
		t.Run(g.ID, func(t *testing.T) {
			img, mask, err := Load(g)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			defer img.Close()
			defer mask.Close()
			if img.Cols()*4 != img.Rows()*3 {
				t.Errorf("image is %dx%d; want 3:4", img.Cols(), img.Rows())
			}
			if !ValidCategory(g.Category) || g.ThumbPath == "" {
				t.Errorf("category %q, thumb %q; want a known category and a thumbnail", g.Category, g.ThumbPath)
			} else if th := gocv.IMRead(g.ThumbPath, gocv.IMReadColor); th.Empty() {
				t.Errorf("cannot read thumbnail %s", g.ThumbPath)
			} else {
				th.Close()
			}
			auto, err := AutoMask(img)
			if err != nil {
				t.Fatalf("AutoMask: %v", err)
			}
			defer auto.Close()
			iou := maskIoU(auto, mask)
			sum += iou
			t.Logf("%s (%s): automatic mask IoU %.4f", g.ID, g.Category, iou)
		})
	}
	t.Logf("mean automatic mask IoU over %d bundled garments: %.4f", len(list), sum/float64(len(list)))
}
