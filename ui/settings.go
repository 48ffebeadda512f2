package ui

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mgvton/inference"
)

// Preference keys: what the window remembers between runs.
const (
	prefSource    = "source"    // last source spec
	prefGarment   = "garment"   // last garment id
	prefModel     = "model"     // last model dir
	prefMirror    = "mirror"    // mirror cameras (bool, default true)
	prefOutputDir = "outputDir" // where clips and snapshots go ("" = Videos)
	prefTryOnOnly = "tryOnOnly" // large try-on view instead of side by side
	prefHUD       = "hud"       // performance overlay on the video (default true)
	prefImportDir = "importDir" // folder the last garment came from
	prefVideoDir  = "videoDir"  // folder the last video file came from
)

// videosDir returns the user's Videos folder: what `xdg-user-dir VIDEOS`
// says when it names a folder other than home, else $HOME/Videos. It does
// not create it.
var videosDir = func() string {
	home, _ := os.UserHomeDir()
	if out, err := exec.Command("xdg-user-dir", "VIDEOS").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" && filepath.IsAbs(d) && filepath.Clean(d) != filepath.Clean(home) {
			return d
		}
	}
	if home == "" {
		return filepath.Join(os.TempDir(), "Videos")
	}
	return filepath.Join(home, "Videos")
}

// outputDir is the folder clips and snapshots are saved in.
func (w *Window) outputDir() string {
	if d := w.prefs.String(prefOutputDir); d != "" {
		return d
	}
	if w.defaultDir == "" {
		w.defaultDir = videosDir()
	}
	return w.defaultDir
}

// outputName is the timestamped file name of a clip or snapshot.
func outputName(t time.Time, suffix int, ext string) string {
	name := "mgvton-" + t.Format("2006-01-02_15-04-05")
	if suffix > 1 {
		name += fmt.Sprintf("-%d", suffix)
	}
	return name + ext
}

// newOutputPath returns a path for a new file with extension ext (".mp4",
// ".png") in the output folder, creating the folder on demand. The name is
// timestamped; a file that exists, or a name already handed out by this
// window, is never reused: "-2", "-3"... are added instead.
func (w *Window) newOutputPath(ext string) (string, error) {
	dir := w.outputDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create output folder: %w", err)
	}
	now := w.now()
	for i := 1; i < 1000; i++ {
		p := filepath.Join(dir, outputName(now, i, ext))
		if w.reserved[p] {
			continue
		}
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			w.reserved[p] = true
			return p, nil
		}
	}
	return "", fmt.Errorf("no free file name in %s", dir)
}

// expandHome turns "~/x" into an absolute path.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// settingsDialog is the Settings window; its fields are kept for tests.
type settingsDialog struct {
	dlg    *dialog.ConfirmDialog
	folder *widget.Entry
	hud    *widget.Check
	mirror *widget.Check
	device *widget.Label
}

// showSettings opens the settings dialog: output folder, HUD, mirroring.
func (w *Window) showSettings() {
	s := &settingsDialog{folder: widget.NewEntry()}
	s.folder.SetText(w.outputDir())
	s.folder.Validator = func(text string) error {
		if !filepath.IsAbs(expandHome(strings.TrimSpace(text))) {
			return errors.New("use a full path, e.g. ~/Videos")
		}
		return nil
	}
	browse := widget.NewButtonWithIcon("Browse…", theme.FolderOpenIcon(), func() {
		d := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
			if err == nil && dir != nil {
				s.folder.SetText(dir.Path())
			}
		}, w.win)
		if l, err := storage.ListerForURI(storage.NewFileURI(existingParent(s.folder.Text))); err == nil {
			d.SetLocation(l)
		}
		d.Resize(fyne.NewSize(760, 520))
		d.Show()
	})
	reset := widget.NewButtonWithIcon("Videos folder", theme.HomeIcon(), func() {
		s.folder.SetText(videosDir())
	})
	s.hud = widget.NewCheck("Show frame rate and latency over the video", nil)
	s.hud.SetChecked(w.hudOn)
	s.mirror = widget.NewCheck("Mirror cameras (selfie view)", nil)
	s.mirror.SetChecked(w.mirror.Checked)

	hint := widget.NewLabel("Clips and snapshots are named mgvton-YYYY-MM-DD_HH-MM-SS and never overwrite a file. The folder is created when needed.")
	hint.Wrapping = fyne.TextWrapWord
	hint.Importance = widget.LowImportance

	s.device = widget.NewLabel(deviceText())
	s.device.Wrapping = fyne.TextWrapWord

	form := widget.NewForm(
		widget.NewFormItem("Save to", container.NewBorder(nil, nil, nil, container.NewHBox(browse, reset), s.folder)),
		widget.NewFormItem("", hint),
		widget.NewFormItem("Video", container.NewVBox(s.mirror, s.hud)),
		widget.NewFormItem("Runs on", s.device),
	)
	s.dlg = dialog.NewCustomConfirm("Settings", "Save", "Cancel", form, func(ok bool) {
		w.settings = nil
		if ok {
			w.applySettings(s)
		}
	}, w.win)
	s.dlg.Resize(fyne.NewSize(640, 300))
	w.settings = s
	s.dlg.Show()
}

// deviceText says where the graphs run, as chosen at start (-device).
func deviceText() string {
	d, why, _ := inference.ChosenDevice()
	if why == "" {
		return string(d)
	}
	return fmt.Sprintf("%s (%s); change with mgvton -device auto|cpu|cuda", d, why)
}

// applySettings stores what the settings dialog says.
func (w *Window) applySettings(s *settingsDialog) {
	dir := filepath.Clean(expandHome(strings.TrimSpace(s.folder.Text)))
	switch {
	case !filepath.IsAbs(dir):
		w.showError("Output folder not changed", fmt.Errorf("%q is not a full path", s.folder.Text),
			"Type a full path such as ~/Videos/mgvton, or use Browse….")
	case dir == filepath.Clean(videosDir()):
		w.prefs.RemoveValue(prefOutputDir) // follow the Videos folder if it moves
	default:
		w.prefs.SetString(prefOutputDir, dir)
	}
	w.setHUD(s.hud.Checked)
	w.mirror.SetChecked(s.mirror.Checked) // calls setMirror
}

// existingParent returns p or its closest existing ancestor (for dialogs).
func existingParent(p string) string {
	p = filepath.Clean(expandHome(p))
	for p != "" && p != "/" && p != "." {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
		p = filepath.Dir(p)
	}
	if home, err := os.UserHomeDir(); err == nil {
		return home
	}
	return "/"
}
