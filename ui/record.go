package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mgvton/capture"
)

// recState is where recording stands; the transitions wait for the engine.
type recState int

const (
	recIdle     recState = iota
	recStarting          // StartRecording in progress
	recOn                // recording
	recStopping          // StopRecording in progress
)

// toggleRecording starts or stops recording (Record button, space bar).
func (w *Window) toggleRecording() {
	switch w.rec {
	case recIdle:
		w.startRecording()
	case recOn:
		w.stopRecording(nil)
	case recStarting:
		// A stop pressed while the recorder is still opening (slow on a
		// loaded machine) is kept and carried out once it is open, not lost.
		w.stopAfterStart = true
	}
	// Stopping: wait for the engine.
}

func (w *Window) startRecording() {
	path, err := w.newOutputPath(".mp4")
	if err != nil {
		w.showError("Could not start recording", err, "Choose an output folder you can write to in Settings.")
		return
	}
	w.setRecState(recStarting)
	w.stopAfterStart = false
	w.call(w.recordLane, "start recording", func() error { return w.eng.StartRecording(path) }, func(err error) {
		if err != nil {
			w.setRecState(recIdle)
			w.showError("Could not start recording", err, "Check that a source is playing and that the output folder is writable (Settings).")
			return
		}
		w.recSince = w.now()
		w.setRecState(recOn)
		if w.stopAfterStart {
			w.stopAfterStart = false
			w.stopRecording(nil)
		}
	})
}

// stopRecording finishes the clip; then is called on the UI goroutine
// afterwards (nil for none).
func (w *Window) stopRecording(then func()) {
	w.setRecState(recStopping)
	var saved string
	w.call(w.recordLane, "stop recording", func() (err error) {
		saved, err = w.eng.StopRecording()
		return err
	}, func(err error) {
		w.setRecState(recIdle)
		if errors.Is(err, capture.ErrRescued) {
			w.showSaved("Output folder was deleted while recording; clip saved again", saved)
		} else if err != nil {
			w.showError("The clip could not be saved", err, "Check the free space and the output folder (Settings), then record again.")
		} else {
			w.showSaved("Clip saved", saved)
		}
		if then != nil {
			then()
		}
	})
}

// setRecState updates the Record button and the REC indicator.
func (w *Window) setRecState(s recState) {
	w.rec = s
	b := w.recordBtn
	switch s {
	case recIdle:
		b.SetText("Record")
		b.SetIcon(theme.MediaRecordIcon())
		b.Importance = widget.DangerImportance
		b.Enable()
		w.video.rec.box.Hide()
	case recStarting:
		b.SetText("Starting…")
		b.Disable()
	case recOn:
		b.SetIcon(theme.MediaStopIcon())
		b.Importance = widget.HighImportance
		b.Enable()
		w.video.rec.box.Show()
		w.tickClock()
	case recStopping:
		b.SetText("Saving…")
		b.Disable()
	}
	b.Refresh()
}

// tickClock updates the elapsed time while recording (called a few times
// a second by the display loop).
func (w *Window) tickClock() {
	if w.rec != recOn {
		return
	}
	d := w.now().Sub(w.recSince).Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	t := fmt.Sprintf("%02d:%02d", m, sec)
	if h > 0 {
		t = fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	w.video.rec.setText("REC " + t)
	if label := "Stop  " + t; w.recordBtn.Text != label {
		w.recordBtn.SetText(label)
	}
}

// snapshot saves the current try-on as PNG.
func (w *Window) snapshot() {
	path, err := w.newOutputPath(".png")
	if err != nil {
		w.showError("Could not save the snapshot", err, "Choose an output folder you can write to in Settings.")
		return
	}
	w.snapBtn.Disable()
	w.call(w.recordLane, "snapshot", func() error { return w.eng.Snapshot(path) }, func(err error) {
		w.snapBtn.Enable()
		if err != nil {
			w.showError("Could not save the snapshot", err, "Wait for the video to play, and check the output folder (Settings).")
			return
		}
		w.showSaved("Snapshot saved", path)
	})
}

// recoverInterrupted looks in the output folder for clips and snapshots
// that an earlier run left half-saved (a crash, a kill: see
// capture.RecoverPartials), renames them to visible "NAME (recovered)"
// files, and says so in the status bar (with Open folder) and the log.
func (w *Window) recoverInterrupted() {
	dir := w.outputDir()
	var rs []capture.Recovered
	w.call(w.recordLane, "recover interrupted recordings", func() error {
		rs = capture.RecoverPartials(dir)
		return nil
	}, func(error) {
		msg := capture.RecoveryReport(rs)
		if msg == "" {
			return
		}
		slog.Warn("mgvton: " + msg)
		shown := dir
		for _, r := range rs {
			if r.Path != "" {
				shown = r.Path
				break
			}
		}
		w.savedPath = shown
		w.savedLabel.SetText(capitalize(msg))
		w.savedBox.Show()
	})
}

// showSaved shows the path of a file just written, with Open folder.
func (w *Window) showSaved(what, path string) {
	w.savedPath = path
	w.savedLabel.SetText(what + ": " + path)
	w.savedBox.Show()
}

// openSavedFolder opens the folder of the last saved file in the file
// manager (xdg-open through Fyne).
func (w *Window) openSavedFolder() {
	if w.savedPath == "" {
		return
	}
	u, err := url.Parse(storage.NewFileURI(filepath.Dir(w.savedPath)).String())
	if err == nil {
		err = w.app.OpenURL(u)
	}
	if err != nil {
		w.showError("Could not open the folder", err, "The file is at "+w.savedPath+".")
	}
}

// recordKey is the keyboard shortcut of the Record button.
const recordKey = fyne.KeySpace
