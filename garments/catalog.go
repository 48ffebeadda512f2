package garments

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// CatalogFile is the name of the index file in a catalog folder.
const CatalogFile = "catalog.json"

// catalogVersion is the only catalog.json version this package reads.
const catalogVersion = 1

// Limits on what a catalog.json may hold; they keep a hostile file from
// costing much and keep names displayable.
const (
	maxCatalogBytes = 8 << 20
	maxGarments     = 10000
	maxIDLen        = 64
	maxNameLen      = 200
	maxTags         = 32
	maxTagLen       = 64
	maxFileNameLen  = 200
)

// catalog is the content of catalog.json.
type catalog struct {
	Version  int     `json:"version"`
	Garments []entry `json:"garments"`
}

// entry is one garment in catalog.json; file names are relative to the
// catalog folder.
type entry struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Category string    `json:"category"`
	Tags     []string  `json:"tags"`
	Image    string    `json:"image"`
	Mask     string    `json:"mask"`
	Thumb    string    `json:"thumb,omitempty"`
	Added    time.Time `json:"added"`
}

// parseCatalog decodes and validates catalog.json. It is strict: an unknown
// version, trailing data or one invalid entry rejects the
// whole file, so what it returns can be trusted to stay inside the folder.
func parseCatalog(data []byte) (catalog, error) {
	var c catalog
	if len(data) > maxCatalogBytes {
		return catalog{}, fmt.Errorf("%d bytes, more than %d", len(data), maxCatalogBytes)
	}
	// Unknown fields are ignored so that a newer writer may add some.
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		return catalog{}, fmt.Errorf("decode: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return catalog{}, errors.New("data after the top-level object")
	}
	if c.Version != catalogVersion {
		return catalog{}, fmt.Errorf("version %d, want %d", c.Version, catalogVersion)
	}
	if len(c.Garments) > maxGarments {
		return catalog{}, fmt.Errorf("%d garments, more than %d", len(c.Garments), maxGarments)
	}
	ids := make(map[string]bool, len(c.Garments))
	files := make(map[string]string, 3*len(c.Garments))
	for i := range c.Garments {
		e := &c.Garments[i]
		if err := e.validate(); err != nil {
			return catalog{}, fmt.Errorf("garment %d: %w", i, err)
		}
		if ids[e.ID] {
			return catalog{}, fmt.Errorf("garment %d: duplicate id %q", i, e.ID)
		}
		ids[e.ID] = true
		for _, f := range []string{e.Image, e.Mask, e.Thumb} {
			if f == "" {
				continue
			}
			if other, ok := files[f]; ok && other != e.ID {
				return catalog{}, fmt.Errorf("garment %d: file %q also belongs to %q", i, f, other)
			}
			files[f] = e.ID
		}
	}
	if c.Garments == nil {
		c.Garments = []entry{}
	}
	return c, nil
}

// marshal encodes c as indented JSON with a final newline.
func (c catalog) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func (e *entry) validate() error {
	if !validID(e.ID) {
		return fmt.Errorf("invalid id %q: want 1 to %d of [a-z0-9-], not starting or ending with -", e.ID, maxIDLen)
	}
	if e.Name == "" {
		e.Name = e.ID
	}
	if err := checkText(e.Name, maxNameLen); err != nil {
		return fmt.Errorf("%s: name: %w", e.ID, err)
	}
	if !ValidCategory(e.Category) {
		return fmt.Errorf("%s: unknown category %q (want one of %s)", e.ID, e.Category, strings.Join(Categories, ", "))
	}
	if len(e.Tags) > maxTags {
		return fmt.Errorf("%s: %d tags, more than %d", e.ID, len(e.Tags), maxTags)
	}
	for _, t := range e.Tags {
		if t == "" {
			return fmt.Errorf("%s: empty tag", e.ID)
		}
		if err := checkText(t, maxTagLen); err != nil {
			return fmt.Errorf("%s: tag: %w", e.ID, err)
		}
	}
	if e.Tags == nil {
		e.Tags = []string{}
	}
	e.Added = e.Added.UTC()
	for _, f := range []struct{ what, name string }{{"image", e.Image}, {"mask", e.Mask}, {"thumb", e.Thumb}} {
		if f.name == "" && f.what == "thumb" {
			continue
		}
		if err := checkFileName(f.name); err != nil {
			return fmt.Errorf("%s: %s: %w", e.ID, f.what, err)
		}
	}
	if e.Image == e.Mask || (e.Thumb != "" && (e.Thumb == e.Image || e.Thumb == e.Mask)) {
		return fmt.Errorf("%s: image, mask and thumb must be different files", e.ID)
	}
	return nil
}

// validID reports whether id is a slug: [a-z0-9-], 1..maxIDLen bytes, no
// leading, trailing or doubled '-'.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen || id[0] == '-' || id[len(id)-1] == '-' || strings.Contains(id, "--") {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// checkText accepts valid UTF-8 without control characters, at most max bytes.
func checkText(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%d bytes, more than %d", len(s), max)
	}
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("control character %U", r)
		}
	}
	return nil
}

// imageExts are the extensions a catalog file may have.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".webp": true}

// checkFileName accepts a plain file name that stays inside the catalog
// folder: no separators, no "." or "..", not absolute, not hidden, no
// control characters, an image extension.
func checkFileName(name string) error {
	switch {
	case name == "":
		return errors.New("missing file name")
	case len(name) > maxFileNameLen:
		return fmt.Errorf("file name of %d bytes, more than %d", len(name), maxFileNameLen)
	case strings.ContainsAny(name, `/\:`) || filepath.IsAbs(name) || filepath.Base(name) != name:
		return fmt.Errorf("file name %q has a path separator", name)
	case name == "." || name == ".." || strings.HasPrefix(name, "."):
		return fmt.Errorf("file name %q starts with a dot", name)
	case !filepath.IsLocal(name):
		return fmt.Errorf("file name %q is not local", name)
	}
	if err := checkText(name, maxFileNameLen); err != nil {
		return fmt.Errorf("file name %q: %w", name, err)
	}
	if !imageExts[strings.ToLower(filepath.Ext(name))] {
		return fmt.Errorf("file name %q is not a .png, .jpg or .webp file", name)
	}
	return nil
}

// readCatalog reads dir/catalog.json; a missing file is an empty catalog.
func readCatalog(dir string) (catalog, error) {
	path := filepath.Join(dir, CatalogFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return catalog{Version: catalogVersion, Garments: []entry{}}, nil
	}
	if err != nil {
		return catalog{}, fmt.Errorf("garments: read %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCatalogBytes+1))
	if err != nil {
		return catalog{}, fmt.Errorf("garments: read %s: %w", path, err)
	}
	c, err := parseCatalog(data)
	if err != nil {
		return catalog{}, fmt.Errorf("garments: read %s: %w: %w", path, ErrCorruptCatalog, err)
	}
	return c, nil
}

// writeCatalog replaces dir/catalog.json atomically.
func writeCatalog(dir string, c catalog) error {
	path := filepath.Join(dir, CatalogFile)
	data, err := c.marshal()
	if err != nil {
		return fmt.Errorf("garments: write %s: %w", path, err)
	}
	if err := writeFile(path, data); err != nil {
		return fmt.Errorf("garments: write %s: %w", path, err)
	}
	return nil
}

// garment turns an entry of the catalog in dir into a Garment.
func (e entry) garment(dir string, bundled bool) Garment {
	g := Garment{
		ID:        e.ID,
		Name:      e.Name,
		Category:  e.Category,
		Tags:      append([]string{}, e.Tags...),
		Added:     e.Added,
		Bundled:   bundled,
		ImagePath: filepath.Join(dir, e.Image),
		MaskPath:  filepath.Join(dir, e.Mask),
	}
	if e.Thumb != "" {
		g.ThumbPath = filepath.Join(dir, e.Thumb)
	}
	return g
}
