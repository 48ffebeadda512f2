package garments

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"mgvton/internal/bundle"
	"mgvton/internal/fsutil"
)

// writeFile is the function every catalog file goes through; tests replace
// it to simulate a failure half-way through an import.
var writeFile = writeFileAtomic

// writeFileAtomic replaces path with data so that readers, and a crash at
// any moment, see either the old file or the complete new one.
func writeFileAtomic(path string, data []byte) error {
	return fsutil.WriteFile(path, data, 0o644)
}

// Library lists the bundled catalog and the user's catalog together. Its
// methods are safe for concurrent use; Import and Remove also hold a lock
// file in the user folder, so that two processes (the app and the command
// line) do not overwrite each other's changes.
type Library struct {
	bundledDir, userDir string

	mu      sync.RWMutex
	bundled []Garment
	user    []Garment
	userErr error // why the user catalog could not be read; writes are refused
}

// ImportOptions describe a garment being imported.
type ImportOptions struct {
	Name     string   // display name; from the file name when empty
	Category string   // one of Categories; CategoryOther when empty
	Tags     []string // optional search tags
	MaskPath string   // optional mask image (white garment on black, or a cut-out alpha); computed when empty
}

// OpenLibrary reads the catalogs in bundledDir (read-only) and userDir
// (created on the first Import). Either may be "" for none, and a folder or
// catalog.json that does not exist is an empty catalog. It always returns a
// usable Library: a catalog that cannot be read or is invalid is reported in
// err (wrapping ErrCorruptCatalog when it is invalid) and left out, while
// the other one still loads. A user catalog that could not be read is never
// overwritten: Import and Remove return its error until it is fixed or
// moved away.
func OpenLibrary(bundledDir, userDir string) (*Library, error) {
	l := &Library{bundledDir: bundledDir, userDir: userDir}
	var errs []error
	if bundledDir != "" {
		c, err := readCatalog(bundledDir)
		if err != nil {
			errs = append(errs, err)
		} else {
			l.bundled = garmentsOf(c, bundledDir, true)
		}
	}
	if userDir != "" {
		c, err := readCatalog(userDir)
		if err != nil {
			l.userErr = err
			errs = append(errs, err)
		} else {
			l.user = garmentsOf(c, userDir, false)
		}
	}
	return l, errors.Join(errs...)
}

func garmentsOf(c catalog, dir string, bundled bool) []Garment {
	gs := make([]Garment, len(c.Garments))
	for i, e := range c.Garments {
		gs[i] = e.garment(dir, bundled)
	}
	return gs
}

// DefaultDirs returns where the bundled and the user catalogs live. The
// bundled one is the garments folder of the first assets folder found among
// $MGVTON_ASSETS, assets/ next to the executable, assets/ in the
// executable's parent folder and assets/ in the current folder ("" if none
// exists). The user one is $XDG_DATA_HOME/mgvton/garments, by default
// ~/.local/share/mgvton/garments ("" if no home folder is known).
func DefaultDirs() (bundled, user string) {
	for _, a := range bundle.AssetDirs() {
		d := filepath.Join(a, "garments")
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			if abs, err := filepath.Abs(d); err == nil {
				d = abs
			}
			bundled = d
			break
		}
	}

	data := os.Getenv("XDG_DATA_HOME")
	if !filepath.IsAbs(data) { // the XDG spec says to ignore relative paths
		data = ""
		if home, err := os.UserHomeDir(); err == nil && home != "" {
			data = filepath.Join(home, ".local", "share")
		}
	}
	if data != "" {
		user = filepath.Join(data, "mgvton", "garments")
	}
	return bundled, user
}

// BundledDir returns the bundled catalog folder the Library was opened with.
func (l *Library) BundledDir() string { return l.bundledDir }

// UserDir returns the user catalog folder the Library was opened with.
func (l *Library) UserDir() string { return l.userDir }

// List returns every garment, the bundled ones first, each catalog in its
// own order (user garments in the order they were imported).
func (l *Library) List() []Garment {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]Garment, 0, len(l.bundled)+len(l.user))
	for _, gs := range [][]Garment{l.bundled, l.user} {
		for _, g := range gs {
			g.Tags = append([]string{}, g.Tags...)
			out = append(out, g)
		}
	}
	return out
}

// Get returns the garment with the given id; a bundled garment wins over a
// user garment with the same id.
func (l *Library) Get(id string) (Garment, bool) {
	for _, g := range l.List() {
		if g.ID == id {
			return g, true
		}
	}
	return Garment{}, false
}

// Filter returns, in List order, the garments in category (all when
// category is "" or "all") whose name, id or one of whose tags contains
// query, ignoring case (all when query is blank).
func (l *Library) Filter(query, category string) []Garment {
	q := strings.ToLower(strings.TrimSpace(query))
	var out []Garment
	for _, g := range l.List() {
		if category != "" && category != "all" && g.Category != category {
			continue
		}
		if q == "" || matches(g, q) {
			out = append(out, g)
		}
	}
	return out
}

func matches(g Garment, q string) bool {
	if strings.Contains(strings.ToLower(g.Name), q) || strings.Contains(g.ID, q) {
		return true
	}
	for _, t := range g.Tags {
		if strings.Contains(strings.ToLower(t), q) {
			return true
		}
	}
	return false
}

// Import adds the shop photo at path to the user catalog (see PrepareFile
// for what is done to it) and returns the new garment. Its id is a slug of
// its name, made unique across both catalogs. The image, mask, thumbnail
// and catalog.json are each written atomically, catalog.json last, and the
// files already written are removed when a later step fails.
func (l *Library) Import(path string, opts ImportOptions) (Garment, error) {
	g, err := l.importFile(path, opts)
	if err != nil {
		return Garment{}, fmt.Errorf("garments: import %s: %w", path, err)
	}
	return g, nil
}

func (l *Library) importFile(path string, opts ImportOptions) (Garment, error) {
	e, err := newEntry(path, opts)
	if err != nil {
		return Garment{}, err
	}
	if l.userDir == "" {
		return Garment{}, ErrNoUserCatalog
	}
	img, mask, err := prepareFile(path, opts.MaskPath)
	if err != nil {
		return Garment{}, err
	}
	thumb := thumbnail(img)
	imgPNG, err1 := encodePNG(img)
	maskPNG, err2 := encodePNG(mask)
	thumbPNG, err3 := encodePNG(thumb)
	img.Close()
	mask.Close()
	thumb.Close()
	if err := errors.Join(err1, err2, err3); err != nil {
		return Garment{}, err
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if err := os.MkdirAll(l.userDir, 0o755); err != nil {
		return Garment{}, err
	}
	unlock, err := lockDir(l.userDir)
	if err != nil {
		return Garment{}, err
	}
	defer unlock()
	// Read again under the lock: another process may have changed it.
	c, err := readCatalog(l.userDir)
	if err != nil {
		l.userErr = err
		return Garment{}, err
	}
	if e.ID, err = l.uniqueID(slug(e.Name), c); err != nil {
		return Garment{}, err
	}
	e.Image, e.Mask, e.Thumb = e.ID+".png", e.ID+"_mask.png", e.ID+"_thumb.png"

	var written []string
	cleanup := func() {
		for _, p := range written {
			os.Remove(p)
		}
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{e.Image, imgPNG}, {e.Mask, maskPNG}, {e.Thumb, thumbPNG}} {
		p := filepath.Join(l.userDir, f.name)
		if err := writeFile(p, f.data); err != nil {
			cleanup()
			return Garment{}, fmt.Errorf("write %s: %w", p, err)
		}
		written = append(written, p)
	}
	c.Garments = append(c.Garments, e)
	if err := writeCatalog(l.userDir, c); err != nil {
		cleanup()
		return Garment{}, err
	}
	l.user, l.userErr = garmentsOf(c, l.userDir, false), nil
	return e.garment(l.userDir, false), nil
}

// newEntry validates opts and fills in the defaults of a new catalog entry.
func newEntry(path string, opts ImportOptions) (entry, error) {
	e := entry{
		Name:     strings.TrimSpace(opts.Name),
		Category: opts.Category,
		Tags:     []string{},
		Added:    time.Now().UTC().Truncate(time.Second),
	}
	if e.Name == "" {
		e.Name = nameFromFile(path)
	}
	if err := checkText(e.Name, maxNameLen); err != nil {
		return entry{}, fmt.Errorf("name: %w", err)
	}
	if e.Category == "" {
		e.Category = CategoryOther
	}
	if !ValidCategory(e.Category) {
		return entry{}, fmt.Errorf("unknown category %q (want one of %s)", e.Category, strings.Join(Categories, ", "))
	}
	if len(opts.Tags) > maxTags {
		return entry{}, fmt.Errorf("%d tags, more than %d", len(opts.Tags), maxTags)
	}
	for _, t := range opts.Tags {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if err := checkText(t, maxTagLen); err != nil {
			return entry{}, fmt.Errorf("tag %q: %w", t, err)
		}
		e.Tags = append(e.Tags, t)
	}
	return e, nil
}

// nameFromFile makes a display name from a file name: "navy_stripe-tee.jpg"
// gives "navy stripe tee".
func nameFromFile(path string) string {
	base := filepath.Base(path)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	base = strings.Join(strings.FieldsFunc(base, func(r rune) bool {
		return r == '_' || r == '-' || r == '.' || r == ' '
	}), " ")
	if len(base) > maxNameLen || checkText(base, maxNameLen) != nil || base == "" {
		return "Garment"
	}
	return base
}

// slug turns a name into an id: lower-case ASCII letters and digits, other
// runs of characters as one '-', at most maxIDLen-8 bytes so that a numeric
// suffix fits; "garment" when nothing is left.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	s := b.String()
	if len(s) > maxIDLen-8 {
		s = strings.TrimRight(s[:maxIDLen-8], "-")
	}
	if s == "" {
		s = "garment"
	}
	return s
}

// uniqueID returns base, or base-2, base-3, ..., whichever is first unused
// by the user catalog c, the bundled catalog and the files in the user
// folder (a crash after writing the files but before catalog.json leaves
// orphans, which must not be overwritten by a different garment's files and
// then referenced twice).
func (l *Library) uniqueID(base string, c catalog) (string, error) {
	taken := make(map[string]bool, len(c.Garments)+len(l.bundled))
	for _, e := range c.Garments {
		taken[e.ID] = true
	}
	for _, g := range l.bundled {
		taken[g.ID] = true
	}
	for n := 1; n <= maxGarments+len(l.bundled)+1; n++ {
		id := base
		if n > 1 {
			id = base + "-" + strconv.Itoa(n)
		}
		if taken[id] {
			continue
		}
		free := true
		for _, f := range []string{id + ".png", id + "_mask.png", id + "_thumb.png"} {
			if _, err := os.Lstat(filepath.Join(l.userDir, f)); !errors.Is(err, fs.ErrNotExist) {
				free = false
			}
		}
		if free {
			return id, nil
		}
	}
	return "", fmt.Errorf("no free id like %q in %s", base, l.userDir)
}

// Remove deletes a user garment: it rewrites catalog.json first and then
// deletes the garment's files, so a crash in between leaves unreferenced
// files, never an entry without its files. Removing a bundled garment gives
// ErrBundled, an unknown id ErrNotFound.
func (l *Library) Remove(id string) error {
	if err := l.remove(id); err != nil {
		return fmt.Errorf("garments: remove %s: %w", id, err)
	}
	return nil
}

func (l *Library) remove(id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	isBundled := false
	for _, g := range l.bundled {
		isBundled = isBundled || g.ID == id
	}
	if l.userDir == "" {
		if isBundled {
			return ErrBundled
		}
		return ErrNotFound
	}
	if _, err := os.Stat(l.userDir); errors.Is(err, fs.ErrNotExist) {
		if isBundled {
			return ErrBundled
		}
		return ErrNotFound
	}
	unlock, err := lockDir(l.userDir)
	if err != nil {
		return err
	}
	defer unlock()
	c, err := readCatalog(l.userDir)
	if err != nil {
		l.userErr = err
		return err
	}
	i := -1
	for k, e := range c.Garments {
		if e.ID == id {
			i = k
		}
	}
	if i < 0 {
		l.user, l.userErr = garmentsOf(c, l.userDir, false), nil
		if isBundled {
			return ErrBundled
		}
		return ErrNotFound
	}
	e := c.Garments[i]
	c.Garments = append(c.Garments[:i:i], c.Garments[i+1:]...)
	if err := writeCatalog(l.userDir, c); err != nil {
		return err
	}
	l.user, l.userErr = garmentsOf(c, l.userDir, false), nil
	var errs []error
	for _, f := range []string{e.Image, e.Mask, e.Thumb} {
		if f == "" {
			continue
		}
		if err := os.Remove(filepath.Join(l.userDir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
