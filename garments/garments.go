// Package garments owns the garment catalog on disk and turns a shop photo
// into what the try-on model needs.
//
// A catalog is a folder with catalog.json and, for each garment, a 3:4
// portrait image (ImageWidth x ImageHeight, garment centred on white), an
// 8-bit 0/255 mask of the same size and a ThumbWidth x ThumbHeight thumbnail.
// A Library lists two catalogs together: the bundled one, read-only, and the
// user's, which Import and Remove change. Every file is written atomically
// (temporary file in the same folder, fsync, rename), so a crash leaves the
// catalog as it was before or after a change, never half-way.
//
// Mats returned by this package belong to the caller, who closes them.
package garments

import (
	"errors"
	"time"
)

// Garment is one catalog entry. Paths are the catalog folder joined with the
// file names stored in catalog.json.
type Garment struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Category  string    `json:"category"`
	Tags      []string  `json:"tags"`
	Added     time.Time `json:"added"`
	Bundled   bool      `json:"bundled"` // from the read-only bundled catalog
	ImagePath string    `json:"image"`
	MaskPath  string    `json:"mask"`
	ThumbPath string    `json:"thumb,omitempty"` // empty when the catalog names none
}

// Garment categories.
const (
	CategoryTShirt     = "t-shirt"
	CategoryLongSleeve = "long-sleeve"
	CategoryTankTop    = "tank-top"
	CategoryOther      = "other"
)

// Categories lists the valid categories in display order.
var Categories = []string{CategoryTShirt, CategoryLongSleeve, CategoryTankTop, CategoryOther}

// ValidCategory reports whether c is one of Categories.
func ValidCategory(c string) bool {
	for _, k := range Categories {
		if c == k {
			return true
		}
	}
	return false
}

// Sizes of the images a catalog holds (VITON-HD cloth layout at half size).
const (
	ImageWidth  = 384
	ImageHeight = 512
	ThumbWidth  = 96
	ThumbHeight = 128
)

// Import limits, checked before any pixel is decoded.
const (
	MaxFileBytes = 50 << 20   // larger files are refused with ErrTooLarge
	MaxPixels    = 40_000_000 // larger images are refused with ErrTooManyPixels
	MinSide      = 32         // smaller images are refused with ErrTooSmall
)

// Errors callers branch on; the returned errors wrap them with the operation
// and the file.
var (
	ErrNotImage       = errors.New("not a JPEG, PNG or WebP image")
	ErrTooLarge       = errors.New("file too large")
	ErrTooManyPixels  = errors.New("image has too many pixels")
	ErrTooSmall       = errors.New("image too small")
	ErrTruncated      = errors.New("truncated image")
	ErrCorrupt        = errors.New("corrupt image")
	ErrNoGarment      = errors.New("no garment found in the image")
	ErrNotFound       = errors.New("no such garment")
	ErrBundled        = errors.New("garment is bundled with mgvton and cannot be removed")
	ErrCorruptCatalog = errors.New("corrupt catalog")
	ErrNoUserCatalog  = errors.New("no user catalog folder")
)
