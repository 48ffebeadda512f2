package ui

import (
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestScreenshots renders the window, the settings dialog and an error
// dialog with Fyne's software painter into $MGVTON_UI_SHOTS, to look at
// them without a display. Skipped when the variable is not set. (Real
// windows: go run ./ui/internal/preview under Xvfb.)
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("MGVTON_UI_SHOTS")
	if dir == "" {
		t.Skip("set MGVTON_UI_SHOTS to a folder to render screenshots")
	}
	h := newHarness(t, newTestApp(t), newFakeEngine(true), newFakeCatalog(), Options{})
	h.eng.frames <- syntheticFrame(3, true)
	h.waitFor("a frame", func() bool { return h.w.video.frames == 1 })
	save := func(name string) {
		t.Helper()
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, h.w.win.Canvas().Capture()); err != nil {
			t.Fatal(err)
		}
	}
	save("main.png")
	h.w.showSettings()
	save("settings.png")
	h.tapDialogButton("Cancel")
	h.w.showError("Could not add shirt.heic", errors.New("garments: decode shirt.heic: image: unknown format"),
		"Use a PNG, JPEG or WebP photo of one garment, flat or on a hanger, on a plain background.")
	save("error.png")
}
