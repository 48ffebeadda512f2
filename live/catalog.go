package live

import (
	"image"
	"image/png"
	"os"
	"sync"

	"mgvton/garments"
	"mgvton/ui"
)

// Catalog implements ui.Catalog over a garments.Library, with thumbnails
// decoded once and kept in memory (List must be quick).
type Catalog struct {
	lib *garments.Library

	mu     sync.Mutex
	thumbs map[string]image.Image
}

// NewCatalog wraps lib and decodes every thumbnail now.
func NewCatalog(lib *garments.Library) *Catalog {
	c := &Catalog{lib: lib, thumbs: map[string]image.Image{}}
	for _, g := range lib.List() {
		c.thumbs[g.ID] = readThumb(g.ThumbPath)
	}
	return c
}

// readThumb decodes a catalog thumbnail; a broken one shows a placeholder.
func readThumb(path string) image.Image {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil
	}
	return img
}

func (c *Catalog) item(g garments.Garment) ui.GarmentItem {
	c.mu.Lock()
	thumb, ok := c.thumbs[g.ID]
	if !ok {
		thumb = readThumb(g.ThumbPath)
		c.thumbs[g.ID] = thumb
	}
	c.mu.Unlock()
	return ui.GarmentItem{ID: g.ID, Name: g.Name, Category: g.Category, Tags: g.Tags, Thumb: thumb, Bundled: g.Bundled}
}

// List returns every garment, bundled first.
func (c *Catalog) List() []ui.GarmentItem {
	list := c.lib.List()
	items := make([]ui.GarmentItem, len(list))
	for i, g := range list {
		items[i] = c.item(g)
	}
	return items
}

// Import adds a garment photo to the user's catalog.
func (c *Catalog) Import(path string) (ui.GarmentItem, error) {
	g, err := c.lib.Import(path, garments.ImportOptions{})
	if err != nil {
		return ui.GarmentItem{}, err
	}
	return c.item(g), nil
}
