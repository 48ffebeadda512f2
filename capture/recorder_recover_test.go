package capture

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"mgvton/internal/fsutil"
	"mgvton/internal/matleak"
)

// TestRecoverPartials puts every kind of partial file in a folder and checks
// what RecoverPartials makes of each.
func TestRecoverPartials(t *testing.T) {
	needTool(t, "ffmpeg")
	matleak.Check(t)
	dir := t.TempDir()
	put := func(name string, data []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := func(p string) {
		past := time.Now().Add(-2 * emptyGrace)
		os.Chtimes(p, past, past)
	}
	// A fragmented clip, as the recorder writes it, cut in its last fragment.
	whole := filepath.Join(t.TempDir(), "whole.mp4")
	makeVideo(t, whole, 90, 30, "160x120", "-g", "30", "-movflags", "+frag_keyframe+empty_moov+default_base_moof")
	clip, _ := os.ReadFile(whole)
	put(".clip.mp4.partial-111.mp4", clip[:len(clip)-200])
	// A whole clip whose name is taken twice already.
	put(".taken.mp4.partial-222.mp4", clip)
	put("taken (recovered).mp4", []byte("mine"))
	// A complete and a cut PNG, a complete JPEG.
	img := gocv.NewMatWithSize(30, 40, gocv.MatTypeCV8UC3)
	defer img.Close()
	png, _ := gocv.IMEncode(gocv.PNGFileExt, img)
	defer png.Close()
	jpg, _ := gocv.IMEncode(gocv.JPEGFileExt, img)
	defer jpg.Close()
	put(".snap.png.partial-333.png", png.GetBytes())
	put(".cut.png.partial-444.png", png.GetBytes()[:png.Len()/2])
	put(".photo.jpg.partial-555.jpg", jpg.GetBytes())
	// A clip header with no fragment; an old empty reservation; a young one.
	put(".nofrag.mp4.partial-666.mp4", clip[:40])
	old(put(".empty.mp4.partial-777.mp4", nil))
	put(".young.mp4.partial-888.mp4", nil)
	// Still being written by someone: locked.
	busy := put(".busy.mp4.partial-999.mp4", clip)
	f, err := os.OpenFile(busy, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := fsutil.LockFile(f); err != nil {
		t.Fatal(err)
	}
	// Not ours: another program's hidden file, a partial of another kind.
	put(".hidden.mp4", clip)
	put(".catalog.json.partial-123.json", []byte("{"))

	rs := RecoverPartials(dir)
	report := RecoveryReport(rs)
	t.Log(report)
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	want := []string{
		".busy.mp4.partial-999.mp4", ".catalog.json.partial-123.json", ".hidden.mp4",
		".young.mp4.partial-888.mp4",
		"clip (recovered).mp4", "photo (recovered).jpg", "snap (recovered).png",
		"taken (recovered 2).mp4", "taken (recovered).mp4",
	}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Errorf("folder after recovery:\n got %q\nwant %q", names, want)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "taken (recovered).mp4")); string(got) != "mine" {
		t.Errorf("an existing file was overwritten: %q", got)
	}
	// The cut clip plays, and was cut back to whole fragments.
	p := probe(t, filepath.Join(dir, "clip (recovered).mp4"))
	if p.Frames < 30 || p.Codec != "h264" {
		t.Errorf("recovered clip: %s with %d frames; want h264 with at least a fragment (30 frames)", p.Codec, p.Frames)
	}
	if e := decodeErrors(t, filepath.Join(dir, "clip (recovered).mp4")); e != "" {
		t.Errorf("recovered clip decodes with errors: %s", e)
	}
	if strings.Count(report, "\n") != 0 || !strings.Contains(report, "recovered 2 interrupted recordings and 2 interrupted snapshots") ||
		!strings.Contains(report, ".cut.png.partial-444.png (picture cut short)") ||
		!strings.Contains(report, ".nofrag.mp4.partial-666.mp4 (no complete video fragment)") {
		t.Errorf("report %q; want one line naming 4 recovered and the removed files with their reasons", report)
	}
	// Nothing left to do: a second scan changes nothing.
	if rs := RecoverPartials(dir); len(rs) != 0 {
		t.Errorf("second scan: %v; want nothing", rs)
	}
	if RecoveryReport(nil) != "" {
		t.Error("report of nothing is not empty")
	}
}

// A live recorder's file is locked, so a scan during the recording leaves
// it alone, and after Close there is nothing to recover.
func TestRecoverLeavesALiveRecordingAlone(t *testing.T) {
	needTool(t, "ffmpeg")
	matleak.Check(t)
	dir := t.TempDir()
	tmp, err := fsutil.TempPath(filepath.Join(dir, "live.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(tmp)
	r, err := NewRecorder(tmp, RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	img := gocv.NewMatWithSize(120, 160, gocv.MatTypeCV8UC3)
	defer img.Close()
	t0 := time.Now()
	for k := 0; k < 60; k++ {
		if err := r.Write(img, t0.Add(time.Duration(k)*time.Second/30)); err != nil {
			t.Fatal(err)
		}
	}
	if rs := RecoverPartials(dir); len(rs) != 0 {
		t.Errorf("scan during a recording: %v; want nothing touched", rs)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fsutil.Commit(tmp, filepath.Join(dir, "live.mp4")); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("ffprobe"); err == nil {
		if p := probe(t, filepath.Join(dir, "live.mp4")); p.Frames < 60 {
			t.Errorf("clip has %d frames; want 60", p.Frames)
		}
	}
}
