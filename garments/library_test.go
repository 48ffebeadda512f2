package garments

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"mgvton/internal/fsutil"
)

// makeCatalog writes a catalog with one plain garment per id to dir.
func makeCatalog(tb testing.TB, dir string, ids ...string) {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	c := catalog{Version: catalogVersion, Garments: []entry{}}
	for i, id := range ids {
		img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 255, 255, 0), ImageHeight, ImageWidth, gocv.MatTypeCV8UC3)
		mask := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), ImageHeight, ImageWidth, gocv.MatTypeCV8UC1)
		r := image.Rect(80, 50, 300, 460)
		reg := img.Region(r)
		reg.SetTo(gocv.NewScalar(float64(40*i), 60, 160, 0))
		reg.Close()
		reg = mask.Region(r)
		reg.SetTo(gocv.NewScalar(255, 0, 0, 0))
		reg.Close()
		thumb := thumbnail(img)
		e := entry{ID: id, Name: strings.ToUpper(id[:1]) + id[1:] + " tee", Category: CategoryTShirt,
			Tags:  []string{"Bundled", fmt.Sprintf("tag%d", i)},
			Image: id + ".png", Mask: id + "_mask.png", Thumb: id + "_thumb.png"}
		writeTemp(tb, dir, e.Image, encode(tb, img, gocv.PNGFileExt))
		writeTemp(tb, dir, e.Mask, encode(tb, mask, gocv.PNGFileExt))
		writeTemp(tb, dir, e.Thumb, encode(tb, thumb, gocv.PNGFileExt))
		img.Close()
		mask.Close()
		thumb.Close()
		c.Garments = append(c.Garments, e)
	}
	if err := writeCatalog(dir, c); err != nil {
		tb.Fatal(err)
	}
}

// photo writes a small synthetic shop photo in the given format and returns
// its path and its true mask (the caller closes it).
func photo(tb testing.TB, dir, name string, ext gocv.FileExt) (string, gocv.Mat) {
	tb.Helper()
	c := synthCases[0]
	c.w, c.h = 300, 400
	img, truth := synthGarment(tb, c)
	defer img.Close()
	return writeTemp(tb, dir, name, encode(tb, img, ext)), truth
}

// readMat decodes an image file for a check.
func readMat(tb testing.TB, path string, flags gocv.IMReadFlag) gocv.Mat {
	tb.Helper()
	m := gocv.IMRead(path, flags)
	if m.Empty() {
		m.Close()
		tb.Fatalf("cannot read %s", path)
	}
	return m
}

// checkStored checks the files of an imported garment and returns the IoU
// of its mask with the true mask put through Prepare.
func checkStored(t *testing.T, g Garment, photoPath string, truth gocv.Mat) float64 {
	t.Helper()
	img := readMat(t, g.ImagePath, gocv.IMReadUnchanged)
	defer img.Close()
	mask := readMat(t, g.MaskPath, gocv.IMReadUnchanged)
	defer mask.Close()
	thumb := readMat(t, g.ThumbPath, gocv.IMReadUnchanged)
	defer thumb.Close()
	for _, c := range []struct {
		what        string
		m           gocv.Mat
		w, h, chans int
	}{{"image", img, ImageWidth, ImageHeight, 3}, {"mask", mask, ImageWidth, ImageHeight, 1}, {"thumb", thumb, ThumbWidth, ThumbHeight, 3}} {
		if c.m.Cols() != c.w || c.m.Rows() != c.h || c.m.Channels() != c.chans {
			t.Errorf("%s is %dx%dx%d; want %dx%dx%d", c.what, c.m.Cols(), c.m.Rows(), c.m.Channels(), c.w, c.h, c.chans)
		}
	}
	// The mask is binary.
	bin := gocv.NewMat()
	defer bin.Close()
	gocv.InRangeWithScalar(mask, gocv.NewScalar(1, 0, 0, 0), gocv.NewScalar(254, 0, 0, 0), &bin)
	if n := gocv.CountNonZero(bin); n != 0 {
		t.Errorf("mask has %d pixels that are neither 0 nor 255", n)
	}
	// The garment fills about 80% of the height or 90% of the width.
	box, err := maskBounds(mask)
	if err != nil {
		t.Fatal(err)
	}
	if fh, fw := float64(box.Dy())/ImageHeight, float64(box.Dx())/ImageWidth; !(fh > 0.78 && fh < 0.82 || fw > 0.88 && fw < 0.92) {
		t.Errorf("garment box %v fills %.2f of the height, %.2f of the width; want 0.80 or 0.90", box, fh, fw)
	}
	// Against the truth, put through the same framing.
	upright := readMat(t, photoPath, gocv.IMReadColor)
	defer upright.Close()
	wantImg, wantMask, err := Prepare(upright, truth)
	if err != nil {
		t.Fatal(err)
	}
	defer wantImg.Close()
	defer wantMask.Close()
	return maskIoU(mask, wantMask)
}

func TestImport(t *testing.T) {
	src := t.TempDir()
	jpegPath, truth := photo(t, src, "Navy_stripe-tee.jpg", gocv.JPEGFileExt)
	defer truth.Close()
	webpPath, truth2 := photo(t, src, "webp shirt.webp", ".webp")
	truth2.Close()
	pngPath, truth3 := photo(t, src, "shirt.png", gocv.PNGFileExt)
	truth3.Close()
	maskPath := writeTemp(t, src, "mask.png", encode(t, truth, gocv.PNGFileExt))

	// A cut-out PNG: the garment on transparent black.
	{
		img := readMat(t, jpegPath, gocv.IMReadColor)
		bgra := gocv.NewMat()
		gocv.CvtColor(img, &bgra, gocv.ColorBGRToBGRA)
		black := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), img.Rows(), img.Cols(), gocv.MatTypeCV8UC4)
		bgra.CopyToWithMask(&black, truth)
		writeTemp(t, src, "cutout.png", encode(t, black, gocv.PNGFileExt))
		img.Close()
		bgra.Close()
		black.Close()
	}
	// A JPEG stored on its side with Orientation 8 (shown rotated 90
	// degrees anticlockwise): the import must come out upright.
	{
		img := readMat(t, jpegPath, gocv.IMReadColor)
		side := gocv.NewMat()
		gocv.Rotate(img, &side, gocv.Rotate90Clockwise)
		writeTemp(t, src, "sideways.jpg", withExif(encode(t, side, gocv.JPEGFileExt), 8, false))
		img.Close()
		side.Close()
	}

	tests := []struct {
		name   string
		path   string
		opts   ImportOptions
		wantID string
		want   Garment // Name, Category, Tags
		minIoU float64
	}{
		{"jpeg auto mask", jpegPath, ImportOptions{}, "navy-stripe-tee",
			Garment{Name: "Navy stripe tee", Category: CategoryOther, Tags: []string{}}, 0.90},
		{"jpeg given mask", jpegPath, ImportOptions{Name: "Breton", Category: CategoryTShirt, Tags: []string{"stripes", " "}, MaskPath: maskPath},
			"breton", Garment{Name: "Breton", Category: CategoryTShirt, Tags: []string{"stripes"}}, 0.99},
		{"png", pngPath, ImportOptions{Category: CategoryTShirt}, "shirt",
			Garment{Name: "shirt", Category: CategoryTShirt, Tags: []string{}}, 0.90},
		{"webp", webpPath, ImportOptions{Name: "Web P"}, "web-p",
			Garment{Name: "Web P", Category: CategoryOther, Tags: []string{}}, 0.90},
		{"png alpha cut-out", filepath.Join(src, "cutout.png"), ImportOptions{Name: "Cut out"}, "cut-out",
			Garment{Name: "Cut out", Category: CategoryOther, Tags: []string{}}, 0.99},
		{"jpeg exif orientation", filepath.Join(src, "sideways.jpg"), ImportOptions{Name: "Sideways"}, "sideways",
			Garment{Name: "Sideways", Category: CategoryOther, Tags: []string{}}, 0.90},
		{"same name again", jpegPath, ImportOptions{Name: "Navy stripe tee"}, "navy-stripe-tee-2",
			Garment{Name: "Navy stripe tee", Category: CategoryOther, Tags: []string{}}, 0.90},
		{"bundled id taken", pngPath, ImportOptions{Name: "Basic"}, "basic-2",
			Garment{Name: "Basic", Category: CategoryOther, Tags: []string{}}, 0.90},
	}
	root := t.TempDir()
	bundled, user := filepath.Join(root, "bundled"), filepath.Join(root, "user", "garments")
	makeCatalog(t, bundled, "basic")
	lib, err := OpenLibrary(bundled, user)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := lib.Import(tt.path, tt.opts)
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			ids = append(ids, g.ID)
			if g.ID != tt.wantID || g.Name != tt.want.Name || g.Category != tt.want.Category || !slices.Equal(g.Tags, tt.want.Tags) || g.Bundled {
				t.Errorf("Import = %q %q %q %q bundled %v; want %q %q %q %q false",
					g.ID, g.Name, g.Category, g.Tags, g.Bundled, tt.wantID, tt.want.Name, tt.want.Category, tt.want.Tags)
			}
			if g.Added.IsZero() {
				t.Errorf("Added is zero")
			}
			if got, ok := lib.Get(g.ID); !ok || got.ImagePath != g.ImagePath {
				t.Errorf("Get(%q) = %v, %v; want the imported garment", g.ID, got, ok)
			}
			iou := checkStored(t, g, jpegPath, truth)
			t.Logf("%s: stored mask IoU %.4f", tt.name, iou)
			if iou < tt.minIoU {
				t.Errorf("stored mask IoU = %.4f; want >= %.2f", iou, tt.minIoU)
			}
			img, mask, err := Load(g)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			img.Close()
			mask.Close()
		})
	}
	// A fresh Library reads what was written, in import order.
	lib2, err := OpenLibrary(bundled, user)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range lib2.List() {
		got = append(got, g.ID)
	}
	if want := append([]string{"basic"}, ids...); !slices.Equal(got, want) {
		t.Errorf("List after reopening = %q; want %q", got, want)
	}
	// No temporary files are left behind.
	for _, n := range listDir(t, user) {
		if strings.Contains(n, ".tmp-") {
			t.Errorf("temporary file %s left in the user catalog", n)
		}
	}
}

func TestListFilterGet(t *testing.T) {
	root := t.TempDir()
	bundled, user := filepath.Join(root, "bundled"), filepath.Join(root, "user")
	makeCatalog(t, bundled, "navy", "red")
	makeCatalog(t, user, "mine")
	lib, err := OpenLibrary(bundled, user)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(gs []Garment) []string {
		out := []string{}
		for _, g := range gs {
			out = append(out, g.ID)
		}
		return out
	}
	if got, want := ids(lib.List()), []string{"navy", "red", "mine"}; !slices.Equal(got, want) {
		t.Errorf("List = %q; want %q", got, want)
	}
	tests := []struct {
		query, category string
		want            []string
	}{
		{"", "", []string{"navy", "red", "mine"}},
		{"  ", "all", []string{"navy", "red", "mine"}},
		{"NAVY", "", []string{"navy"}},
		{"tee", "", []string{"navy", "red", "mine"}},
		{"bundled", "", []string{"navy", "red", "mine"}}, // tag, any case
		{"tag1", "", []string{"red"}},
		{"", CategoryTShirt, []string{"navy", "red", "mine"}},
		{"", CategoryTankTop, []string{}},
		{"red", CategoryTShirt, []string{"red"}},
		{"nothing", "", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.query+"/"+tt.category, func(t *testing.T) {
			if got := ids(lib.Filter(tt.query, tt.category)); !slices.Equal(got, tt.want) {
				t.Errorf("Filter(%q, %q) = %q; want %q", tt.query, tt.category, got, tt.want)
			}
		})
	}
	g, ok := lib.Get("red")
	if !ok || !g.Bundled || g.Name != "Red tee" || g.ImagePath != filepath.Join(bundled, "red.png") {
		t.Errorf("Get(red) = %+v, %v; want the bundled red tee", g, ok)
	}
	if g, ok := lib.Get("mine"); !ok || g.Bundled {
		t.Errorf("Get(mine) = %+v, %v; want a user garment", g, ok)
	}
	if _, ok := lib.Get("nope"); ok {
		t.Errorf("Get(nope) found a garment")
	}
	// List hands out copies.
	l := lib.List()
	l[0].Tags[0] = "changed"
	if g, _ := lib.Get("navy"); g.Tags[0] != "Bundled" {
		t.Errorf("changing List's result changed the library: tag %q", g.Tags[0])
	}
	img, mask, err := Load(g)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer img.Close()
	defer mask.Close()
	if img.Cols() != ImageWidth || img.Rows() != ImageHeight || img.Type() != gocv.MatTypeCV8UC3 || mask.Type() != gocv.MatTypeCV8UC1 {
		t.Errorf("Load = %dx%d %v, mask %v; want %dx%d BGR and gray", img.Cols(), img.Rows(), img.Type(), mask.Type(), ImageWidth, ImageHeight)
	}
}

func TestRemove(t *testing.T) {
	root := t.TempDir()
	bundled, user := filepath.Join(root, "bundled"), filepath.Join(root, "user")
	makeCatalog(t, bundled, "navy", "shared")
	makeCatalog(t, user, "mine", "other", "shared")
	lib, err := OpenLibrary(bundled, user)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id        string
		wantErr   error
		wantFiles []string // left in the user folder
	}{
		{"mine", nil, []string{"other", "shared"}},
		{"mine", ErrNotFound, []string{"other", "shared"}},
		{"navy", ErrBundled, []string{"other", "shared"}},
		{"shared", nil, []string{"other"}}, // the user's copy goes first
		{"shared", ErrBundled, []string{"other"}},
		{"../other", ErrNotFound, []string{"other"}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			err := lib.Remove(tt.id)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Remove(%q) error = %v; want %v", tt.id, err, tt.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "garments: remove "+tt.id+": ") {
				t.Errorf("error %q; want it to start with the operation and id", err)
			}
			var want []string
			for _, id := range tt.wantFiles {
				want = append(want, id+".png", id+"_mask.png", id+"_thumb.png")
			}
			want = append(want, ".lock", CatalogFile)
			slices.Sort(want)
			if got := listDir(t, user); !slices.Equal(got, want) {
				t.Errorf("user folder = %q; want %q", got, want)
			}
			if _, ok := lib.Get(tt.id); ok != slices.Contains([]string{"navy", "shared"}, tt.id) {
				t.Errorf("Get(%q) after Remove found = %v", tt.id, ok)
			}
		})
	}
}

// TestImportRejects checks each input Import must refuse, that the error
// names the operation and the file, and that nothing is left behind.
func TestImportRejects(t *testing.T) {
	src := t.TempDir()
	huge := filepath.Join(src, "huge.png")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(craftedPNG(400, 400))
	if err := f.Truncate(MaxFileBytes + 1); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	f.Close()
	good, truth := photo(t, src, "good.jpg", gocv.JPEGFileExt)
	truth.Close()
	marker := markerImage(200, 300)
	goodPNG := encode(t, marker, gocv.PNGFileExt)
	marker.Close()
	goodJPEG, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	blank := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(245, 245, 245, 0), 300, 200, gocv.MatTypeCV8UC3)
	blankPNG := encode(t, blank, gocv.PNGFileExt)
	blank.Close()
	tiny := markerImage(20, 20)
	tinyPNG := encode(t, tiny, gocv.PNGFileExt)
	tiny.Close()
	badMask := markerImage(100, 100)
	badMaskPNG := encode(t, badMask, gocv.PNGFileExt)
	badMask.Close()

	tests := []struct {
		name    string
		path    string
		opts    ImportOptions
		wantErr error  // or nil to check wantMsg only
		wantMsg string // substring of the error
	}{
		{"byte limit", huge, ImportOptions{}, ErrTooLarge, "file too large"},
		{"pixel limit png", writeTemp(t, src, "big.png", craftedPNG(8000, 6000)), ImportOptions{}, ErrTooManyPixels, "8000x6000"},
		{"pixel limit jpeg", writeTemp(t, src, "big.jpg", craftedJPEG(65000, 65000)), ImportOptions{}, ErrTooManyPixels, "65000x65000"},
		{"pixel limit webp", writeTemp(t, src, "big.webp", craftedVP8X(16000, 16000)), ImportOptions{}, ErrTooManyPixels, "16000x16000"},
		{"too small", writeTemp(t, src, "tiny.png", tinyPNG), ImportOptions{}, ErrTooSmall, "20x20"},
		{"text file", writeTemp(t, src, "notes.txt", []byte("hello\n")), ImportOptions{}, ErrNotImage,
			"garments: import " + filepath.Join(src, "notes.txt") + ": not a JPEG, PNG or WebP image"},
		{"empty file", writeTemp(t, src, "empty.png", nil), ImportOptions{}, ErrNotImage, "not a JPEG"},
		{"truncated png", writeTemp(t, src, "cut.png", goodPNG[:len(goodPNG)/2]), ImportOptions{}, ErrTruncated, "truncated"},
		{"truncated jpeg", writeTemp(t, src, "cut.jpg", goodJPEG[:len(goodJPEG)*2/3]), ImportOptions{}, ErrTruncated, "truncated"},
		{"header without pixels", writeTemp(t, src, "hollow.png", craftedPNG(100, 100)), ImportOptions{}, ErrCorrupt, "decoder"},
		{"missing file", filepath.Join(src, "nope.jpg"), ImportOptions{}, os.ErrNotExist, "nope.jpg"},
		{"folder", src, ImportOptions{}, nil, "not a regular file"},
		{"blank photo", writeTemp(t, src, "blank.png", blankPNG), ImportOptions{}, ErrNoGarment, "no garment"},
		{"bad category", good, ImportOptions{Category: "hat"}, nil, `unknown category "hat"`},
		{"control char in name", good, ImportOptions{Name: "a\x00b"}, nil, "control character"},
		{"mask of another size", good, ImportOptions{MaskPath: writeTemp(t, src, "m.png", badMaskPNG)}, nil, "mask is 100x100, image is 300x400"},
		{"mask not an image", good, ImportOptions{MaskPath: filepath.Join(src, "notes.txt")}, ErrNotImage, "mask " + filepath.Join(src, "notes.txt")},
	}
	root := t.TempDir()
	user := filepath.Join(root, "user")
	makeCatalog(t, user, "kept")
	before := listDir(t, user)
	catBefore, err := os.ReadFile(filepath.Join(user, CatalogFile))
	if err != nil {
		t.Fatal(err)
	}
	lib, err := OpenLibrary("", user)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := lib.Import(tt.path, tt.opts)
			if err == nil {
				t.Fatalf("Import = %+v; want an error", g)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Import error = %v; want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Import error = %q; want it to contain %q", err, tt.wantMsg)
			}
			if prefix := "garments: import " + tt.path + ": "; !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("Import error = %q; want prefix %q", err, prefix)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Import error %q is more than one line", err)
			}
			if got := listDir(t, user); !slices.Equal(got, before) {
				t.Errorf("user folder = %q; want %q", got, before)
			}
			catAfter, err := os.ReadFile(filepath.Join(user, CatalogFile))
			if err != nil || !bytes.Equal(catAfter, catBefore) {
				t.Errorf("catalog.json changed (err %v)", err)
			}
		})
	}
}

// TestImportWriteFailure makes each file write of an import fail in turn,
// half-way through, and checks that the catalog folder is as before.
func TestImportWriteFailure(t *testing.T) {
	src := t.TempDir()
	path, truth := photo(t, src, "shirt.jpg", gocv.JPEGFileExt)
	truth.Close()
	user := filepath.Join(t.TempDir(), "user")
	makeCatalog(t, user, "kept")
	lib, err := OpenLibrary("", user)
	if err != nil {
		t.Fatal(err)
	}
	// Take the lock file into account: it is created by the first import.
	os.WriteFile(filepath.Join(user, ".lock"), nil, 0o644)
	before := listDir(t, user)
	catBefore, _ := os.ReadFile(filepath.Join(user, CatalogFile))
	defer func() { writeFile = writeFileAtomic }()
	for n, what := range []string{"image", "mask", "thumb", "catalog.json"} {
		t.Run(what, func(t *testing.T) {
			calls := 0
			injected := errors.New("disk full")
			writeFile = func(path string, data []byte) error {
				calls++
				if calls <= n {
					return writeFileAtomic(path, data)
				}
				// Fail half-way through writing the temporary file.
				return fsutil.WriteWith(path, 0o644, func(w io.Writer) error {
					w.Write(data[:len(data)/2])
					return injected
				})
			}
			_, err := lib.Import(path, ImportOptions{Name: "Shirt"})
			if !errors.Is(err, injected) {
				t.Fatalf("Import error = %v; want the injected one", err)
			}
			if got := listDir(t, user); !slices.Equal(got, before) {
				t.Errorf("user folder = %q; want %q", got, before)
			}
			if catAfter, _ := os.ReadFile(filepath.Join(user, CatalogFile)); !bytes.Equal(catAfter, catBefore) {
				t.Errorf("catalog.json changed")
			}
			if _, ok := lib.Get("shirt"); ok {
				t.Errorf("the failed garment is listed")
			}
		})
	}
	writeFile = writeFileAtomic
	if g, err := lib.Import(path, ImportOptions{Name: "Shirt"}); err != nil || g.ID != "shirt" {
		t.Errorf("Import after the failures = %q, %v; want shirt, nil", g.ID, err)
	}
}

// TestOpenLibraryBadCatalogs: a corrupt or hostile catalog.json is
// reported, the other catalog still loads, and the bad one is never
// overwritten.
func TestOpenLibraryBadCatalogs(t *testing.T) {
	tests := []struct {
		name          string
		bundled, user string // catalog.json content; "" for a valid one
		wantIDs       []string
		wantMsg       string
	}{
		{"corrupt user", "", `{"version": 1, "garments": [{`, []string{"navy"}, "unexpected EOF"},
		{"user path traversal", "", catalogWith("image", `"../../../etc/passwd.png"`), []string{"navy"}, "separator"},
		{"user absolute path", "", catalogWith("mask", `"/etc/x.png"`), []string{"navy"}, "separator"},
		{"user not json", "", "\x00\x01binary", []string{"navy"}, "decode"},
		{"corrupt bundled", `[]`, "", []string{"mine"}, "decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			bundled, user := filepath.Join(root, "bundled"), filepath.Join(root, "user")
			makeCatalog(t, bundled, "navy")
			makeCatalog(t, user, "mine")
			if tt.bundled != "" {
				writeTemp(t, bundled, CatalogFile, []byte(tt.bundled))
			}
			if tt.user != "" {
				writeTemp(t, user, CatalogFile, []byte(tt.user))
			}
			lib, err := OpenLibrary(bundled, user)
			if !errors.Is(err, ErrCorruptCatalog) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("OpenLibrary error = %v; want ErrCorruptCatalog mentioning %q", err, tt.wantMsg)
			}
			if lib == nil {
				t.Fatal("OpenLibrary returned no library")
			}
			var ids []string
			for _, g := range lib.List() {
				ids = append(ids, g.ID)
			}
			if !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("List = %q; want %q", ids, tt.wantIDs)
			}
			if tt.user == "" {
				return
			}
			// The bad user catalog is refused for writing, and kept as is.
			if err := lib.Remove("mine"); !errors.Is(err, ErrCorruptCatalog) {
				t.Errorf("Remove error = %v; want ErrCorruptCatalog", err)
			}
			src := t.TempDir()
			p, truth := photo(t, src, "x.jpg", gocv.JPEGFileExt)
			truth.Close()
			if _, err := lib.Import(p, ImportOptions{}); !errors.Is(err, ErrCorruptCatalog) {
				t.Errorf("Import error = %v; want ErrCorruptCatalog", err)
			}
			if got, _ := os.ReadFile(filepath.Join(user, CatalogFile)); string(got) != tt.user {
				t.Errorf("user catalog.json was rewritten to %q", got)
			}
			if got := listDir(t, user); slices.ContainsFunc(got, func(n string) bool { return strings.HasPrefix(n, "x") }) {
				t.Errorf("user folder = %q; want no files of the refused import", got)
			}
		})
	}
}

func TestOpenLibraryMissing(t *testing.T) {
	root := t.TempDir()
	user := filepath.Join(root, "not", "yet")
	lib, err := OpenLibrary(filepath.Join(root, "no-bundled"), user)
	if err != nil {
		t.Fatalf("OpenLibrary: %v", err)
	}
	if n := len(lib.List()); n != 0 {
		t.Errorf("List has %d garments; want 0", n)
	}
	if _, err := os.Stat(user); !os.IsNotExist(err) {
		t.Errorf("OpenLibrary created the user folder (stat error %v)", err)
	}
	if err := lib.Remove("x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove error = %v; want ErrNotFound", err)
	}
	src := t.TempDir()
	p, truth := photo(t, src, "x.jpg", gocv.JPEGFileExt)
	truth.Close()
	if _, err := lib.Import(p, ImportOptions{}); err != nil {
		t.Fatalf("Import into a new folder: %v", err)
	}
	noUser, _ := OpenLibrary("", "")
	if _, err := noUser.Import(p, ImportOptions{}); !errors.Is(err, ErrNoUserCatalog) {
		t.Errorf("Import without a user folder error = %v; want ErrNoUserCatalog", err)
	}
}

func TestDefaultDirs(t *testing.T) {
	root := t.TempDir()
	assets := filepath.Join(root, "assets")
	os.MkdirAll(filepath.Join(assets, "garments"), 0o755)
	home := filepath.Join(root, "home")
	tests := []struct {
		name, assets, xdg     string
		wantBundled, wantUser string
	}{
		{"env", assets, filepath.Join(root, "data"), filepath.Join(assets, "garments"), filepath.Join(root, "data", "mgvton", "garments")},
		{"relative xdg ignored", assets, "rel/data", filepath.Join(assets, "garments"), filepath.Join(home, ".local", "share", "mgvton", "garments")},
		{"no xdg", assets, "", filepath.Join(assets, "garments"), filepath.Join(home, ".local", "share", "mgvton", "garments")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("MGVTON_ASSETS", tt.assets)
			t.Setenv("XDG_DATA_HOME", tt.xdg)
			t.Setenv("HOME", home)
			b, u := DefaultDirs()
			if b != tt.wantBundled || u != tt.wantUser {
				t.Errorf("DefaultDirs = %q, %q; want %q, %q", b, u, tt.wantBundled, tt.wantUser)
			}
		})
	}
	t.Run("current folder", func(t *testing.T) {
		t.Setenv("MGVTON_ASSETS", "")
		t.Chdir(root)
		if b, _ := DefaultDirs(); b != filepath.Join(root, "assets", "garments") {
			t.Errorf("bundled = %q; want the current folder's assets/garments", b)
		}
	})
}
