package ui

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Garment cards: size of a cell of the picker grid.
var (
	cardSize  = fyne.NewSize(132, 184)
	thumbSize = fyne.NewSize(116, 116)
)

// allCategories is the category select's entry that shows every garment.
const allCategories = "All categories"

// imageExts are the garment photos Catalog.Import accepts.
var imageExts = []string{".png", ".jpg", ".jpeg", ".webp"}

// videoExts are the video files the source picker opens.
var videoExts = []string{".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v"}

// garmentCard is a cell of the picker: thumbnail, name, category; the
// selected card has an accent border.
type garmentCard struct {
	widget.BaseWidget
	item     GarmentItem
	selected bool
	hovered  bool
	onTap    func(*garmentCard)

	bg    *canvas.Rectangle
	thumb *canvas.Image
	name  *widget.Label
	cat   *canvas.Text
	check *fyne.Container // badge on the selected card
	badge *fyne.Container // lays out check; re-laid out when it shows
}

func newGarmentCard(item GarmentItem, onTap func(*garmentCard)) *garmentCard {
	c := &garmentCard{item: item, onTap: onTap}
	c.bg = canvas.NewRectangle(colorCardBG)
	c.bg.CornerRadius = 10
	c.bg.StrokeWidth = 2
	c.thumb = canvas.NewImageFromImage(item.Thumb)
	c.thumb.FillMode = canvas.ImageFillContain
	c.thumb.SetMinSize(thumbSize)
	if item.Thumb == nil {
		c.thumb.Resource = theme.MediaPhotoIcon()
	}
	c.name = widget.NewLabel(item.Name)
	c.name.Alignment = fyne.TextAlignCenter
	c.name.Truncation = fyne.TextTruncateEllipsis
	c.name.TextStyle.Bold = true
	c.cat = canvas.NewText(item.Category, colorSubtle)
	c.cat.TextSize = 11
	c.cat.Alignment = fyne.TextAlignCenter
	mark := canvas.NewCircle(colorAccent)
	c.check = container.NewStack(mark, container.NewPadded(widget.NewIcon(theme.ConfirmIcon())))
	c.check.Hide()
	c.badge = container.NewGridWrap(fyne.NewSize(22, 22), c.check)
	c.ExtendBaseWidget(c)
	c.update()
	return c
}

func (c *garmentCard) CreateRenderer() fyne.WidgetRenderer {
	thumbBG := canvas.NewRectangle(colorVideoBG)
	thumbBG.CornerRadius = 8
	thumb := container.NewStack(thumbBG, container.NewPadded(c.thumb))
	body := container.NewBorder(
		thumb, nil, nil, nil,
		container.New(layout.NewCustomPaddedVBoxLayout(0), c.name, c.cat),
	)
	badge := container.NewBorder(container.NewHBox(layout.NewSpacer(), c.badge), nil, nil, nil)
	return widget.NewSimpleRenderer(container.NewStack(c.bg,
		container.New(layout.NewCustomPaddedLayout(6, 2, 6, 6), body),
		container.New(layout.NewCustomPaddedLayout(4, 0, 0, 4), badge)))
}

// update brings the card's look in line with its state.
func (c *garmentCard) update() {
	switch {
	case c.selected:
		c.bg.FillColor = colorCardOver
		c.bg.StrokeColor = colorAccent
	case c.hovered:
		c.bg.FillColor = colorCardOver
		c.bg.StrokeColor = colorCardOver
	default:
		c.bg.FillColor = colorCardBG
		c.bg.StrokeColor = colorCardBG
	}
	if c.check.Visible() != c.selected {
		setVisible(c.check, c.selected)
		c.badge.Refresh() // layouts skip hidden objects: size it now
	}
}

// setSelected highlights the card or not.
func (c *garmentCard) setSelected(on bool) {
	if c.selected == on {
		return
	}
	c.selected = on
	c.update()
	c.bg.Refresh()
}

// Tapped selects the garment.
func (c *garmentCard) Tapped(*fyne.PointEvent) {
	if c.onTap != nil {
		c.onTap(c)
	}
}

// Cursor shows a pointer hand over cards.
func (c *garmentCard) Cursor() desktop.Cursor { return desktop.PointerCursor }

// MouseIn highlights the card under the mouse.
func (c *garmentCard) MouseIn(*desktop.MouseEvent) { c.hovered = true; c.update(); c.bg.Refresh() }

// MouseMoved is needed for desktop.Hoverable.
func (c *garmentCard) MouseMoved(*desktop.MouseEvent) {}

// MouseOut ends the hover highlight.
func (c *garmentCard) MouseOut() { c.hovered = false; c.update(); c.bg.Refresh() }

// picker is the garment panel: search, category, grid of cards, add button.
type picker struct {
	w        *Window
	items    []GarmentItem
	cards    map[string]*garmentCard
	visible  []*garmentCard // cards in the grid, in order
	selected string         // garment id

	search   *widget.Entry
	category *widget.Select
	grid     *fyne.Container
	scroll   *container.Scroll
	empty    *widget.Label
	count    *canvas.Text
	add      *widget.Button
	box      fyne.CanvasObject
}

func newPicker(w *Window) *picker {
	p := &picker{w: w, cards: map[string]*garmentCard{}}
	p.search = widget.NewEntry()
	p.search.SetPlaceHolder("Search garments")
	p.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	p.search.OnChanged = func(string) { p.applyFilter() }
	p.category = widget.NewSelect([]string{allCategories}, func(string) { p.applyFilter() })
	p.category.Selected = allCategories
	p.grid = container.NewGridWrap(cardSize)
	p.scroll = container.NewVScroll(p.grid)
	p.empty = widget.NewLabel("No garment matches.\nClear the search or pick another category.")
	p.empty.Alignment = fyne.TextAlignCenter
	p.empty.Importance = widget.LowImportance
	p.empty.Hide()
	p.count = subtleText("", 12)
	p.add = widget.NewButtonWithIcon("Add garment…", theme.ContentAddIcon(), w.chooseGarmentFile)

	title := widget.NewLabelWithStyle("Garments", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	header := container.NewVBox(
		container.NewBorder(nil, nil, title, container.NewCenter(p.count)),
		p.search,
		p.category,
	)
	hint := subtleText("← → switch garments · drop photos to add", 11)
	hint.Alignment = fyne.TextAlignCenter
	footer := container.NewVBox(p.add, hint)
	p.box = container.NewBorder(header, footer, nil, nil,
		container.NewStack(p.scroll, container.NewCenter(p.empty)))
	return p
}

// setItems replaces the catalog shown. UI goroutine.
func (p *picker) setItems(items []GarmentItem) {
	p.items = slices.Clone(items)
	p.cards = make(map[string]*garmentCard, len(items))
	for _, it := range p.items {
		c := newGarmentCard(it, func(c *garmentCard) { p.w.selectGarment(c.item.ID, true) })
		c.setSelected(it.ID == p.selected)
		p.cards[it.ID] = c
	}
	p.updateCategories()
	p.applyFilter()
}

// addItem shows a newly imported garment (replacing one with its id).
func (p *picker) addItem(it GarmentItem) {
	items := slices.DeleteFunc(slices.Clone(p.items), func(x GarmentItem) bool { return x.ID == it.ID })
	p.setItems(append(items, it))
}

func (p *picker) updateCategories() {
	seen := map[string]bool{}
	var cats []string
	for _, it := range p.items {
		if it.Category != "" && !seen[it.Category] {
			seen[it.Category] = true
			cats = append(cats, it.Category)
		}
	}
	sort.Strings(cats)
	p.category.SetOptions(append([]string{allCategories}, cats...))
	if !seen[p.category.Selected] {
		p.category.Selected = allCategories
		p.category.Refresh()
	}
}

// matches reports whether the garment passes the search and category.
func (p *picker) matches(it GarmentItem) bool {
	if c := p.category.Selected; c != "" && c != allCategories && it.Category != c {
		return false
	}
	q := strings.ToLower(strings.TrimSpace(p.search.Text))
	if q == "" {
		return true
	}
	for _, word := range strings.Fields(q) {
		found := strings.Contains(strings.ToLower(it.Name), word)
		for _, tag := range it.Tags {
			found = found || strings.Contains(strings.ToLower(tag), word)
		}
		if !found {
			return false
		}
	}
	return true
}

// applyFilter rebuilds the grid from the search entry and category select.
func (p *picker) applyFilter() {
	p.visible = p.visible[:0]
	objs := make([]fyne.CanvasObject, 0, len(p.items))
	for _, it := range p.items {
		if p.matches(it) {
			c := p.cards[it.ID]
			p.visible = append(p.visible, c)
			objs = append(objs, c)
		}
	}
	p.grid.Objects = objs
	p.grid.Refresh()
	setVisible(p.empty, len(objs) == 0 && len(p.items) > 0)
	if len(objs) == len(p.items) {
		p.count.Text = plural(len(p.items), "garment")
	} else {
		p.count.Text = fmt.Sprintf("%d of %d", len(objs), len(p.items))
	}
	p.count.Refresh()
}

// clearFilter shows every garment.
func (p *picker) clearFilter() {
	p.search.OnChanged = nil
	p.search.SetText("")
	p.search.OnChanged = func(string) { p.applyFilter() }
	p.category.Selected = allCategories
	p.category.Refresh()
	p.applyFilter()
}

// highlight marks id as the selected garment and, with reveal, scrolls it
// into view.
func (p *picker) highlight(id string, reveal bool) {
	if c := p.cards[p.selected]; c != nil {
		c.setSelected(false)
	}
	p.selected = id
	c := p.cards[id]
	if c == nil {
		return
	}
	c.setSelected(true)
	if reveal {
		p.reveal(c)
	}
}

// reveal scrolls the grid so that card c is in view.
func (p *picker) reveal(c *garmentCard) {
	top, bottom := c.Position().Y, c.Position().Y+c.Size().Height
	view := p.scroll.Size().Height
	switch {
	case view < c.Size().Height:
		// not laid out yet
	case top < p.scroll.Offset.Y:
		p.scroll.ScrollToOffset(fyne.NewPos(0, top))
	case bottom > p.scroll.Offset.Y+view:
		p.scroll.ScrollToOffset(fyne.NewPos(0, bottom-view))
	}
}

// step returns the id of the visible garment delta places from the
// selected one, wrapping around; "" when none is visible.
func (p *picker) step(delta int) string {
	n := len(p.visible)
	if n == 0 {
		return ""
	}
	i := slices.IndexFunc(p.visible, func(c *garmentCard) bool { return c.item.ID == p.selected })
	if i < 0 {
		if delta < 0 {
			return p.visible[n-1].item.ID
		}
		return p.visible[0].item.ID
	}
	return p.visible[((i+delta)%n+n)%n].item.ID
}

// item returns the catalog entry with this id.
func (p *picker) item(id string) (GarmentItem, bool) {
	i := slices.IndexFunc(p.items, func(it GarmentItem) bool { return it.ID == id })
	if i < 0 {
		return GarmentItem{}, false
	}
	return p.items[i], true
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// selectGarment makes id the worn garment: highlight now (with reveal,
// scrolled into view), engine in the background (latest wins), remembered
// for the next run.
func (w *Window) selectGarment(id string, reveal bool) {
	if id == "" {
		return
	}
	it, ok := w.picker.item(id)
	if !ok {
		return
	}
	if id == w.picker.selected && w.garmentSet {
		return
	}
	w.picker.highlight(id, reveal)
	w.garmentSet = true
	w.prefs.SetString(prefGarment, id)
	w.call(w.garmentLane, "set garment", func() error { return w.eng.SetGarment(id) }, func(err error) {
		if err != nil {
			w.showError("Could not use "+it.Name, err, "Pick another garment, or import the photo again with Add garment….")
		}
	})
}

// stepGarment selects the next (+1) or previous (-1) visible garment.
func (w *Window) stepGarment(delta int) {
	w.selectGarment(w.picker.step(delta), true)
}

// chooseGarmentFile opens the file dialog of "Add garment…".
func (w *Window) chooseGarmentFile() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			w.showError("Could not open the file", err, "Pick a PNG, JPEG or WebP photo.")
			return
		}
		if r == nil {
			return // cancelled
		}
		path := r.URI().Path()
		r.Close()
		w.prefs.SetString(prefImportDir, filepath.Dir(path))
		w.importGarments([]string{path})
	}, w.win)
	d.SetFilter(storage.NewExtensionFileFilter(imageExts))
	w.setDialogLocation(d, prefImportDir)
	d.Resize(fyne.NewSize(820, 560))
	d.Show()
}

// setDialogLocation starts a file dialog in the folder remembered under key.
func (w *Window) setDialogLocation(d *dialog.FileDialog, key string) {
	dir := w.prefs.String(key)
	if dir == "" {
		return
	}
	if l, err := storage.ListerForURI(storage.NewFileURI(existingParent(dir))); err == nil {
		d.SetLocation(l)
	}
}

// importGarments imports photos through the catalog one after the other,
// off the UI goroutine, showing progress; each new garment appears at once
// and the last one imported is selected.
func (w *Window) importGarments(paths []string) {
	for _, path := range paths {
		name := filepath.Base(path)
		job := w.startJob("Importing " + name + "…")
		var item GarmentItem
		w.call(w.importLane, "import garment", func() (err error) {
			item, err = w.cat.Import(path)
			return err
		}, func(err error) {
			w.endJob(job)
			if err != nil {
				w.showError("Could not add "+name, err,
					"Use a PNG, JPEG or WebP photo of one garment, flat or on a hanger, on a plain background.")
				return
			}
			w.picker.addItem(item)
			if !w.picker.matches(item) {
				w.picker.clearFilter()
			}
			w.selectGarment(item.ID, true)
		})
	}
}

// dropped handles files dropped on the window: photos are imported as
// garments, a video file becomes the source.
func (w *Window) dropped(_ fyne.Position, uris []fyne.URI) {
	var photos []string
	var video string
	var other []string
	for _, u := range uris {
		if u == nil || u.Scheme() != "file" {
			continue
		}
		ext := strings.ToLower(u.Extension())
		switch {
		case slices.Contains(imageExts, ext):
			photos = append(photos, u.Path())
		case slices.Contains(videoExts, ext):
			video = u.Path()
		default:
			other = append(other, u.Name())
		}
	}
	if len(photos) > 0 {
		w.importGarments(photos)
	}
	if video != "" {
		w.openSource(video, true)
	}
	if len(other) > 0 {
		w.showError("Cannot use "+strings.Join(other, ", "),
			fmt.Errorf("unsupported file type"),
			"Drop PNG, JPEG or WebP photos to add garments, or a video file (MP4, MKV, AVI, MOV, WebM) to play it.")
	}
}
