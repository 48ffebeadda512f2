package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"mgvton/internal/fsutil"
)

// Recovered is one partial file that RecoverPartials dealt with.
type Recovered struct {
	Partial string // the hidden partial file that was found
	Path    string // its new, visible name; "" if it was not recovered
	Removed bool   // it held nothing playable and was removed
	Err     error  // why it was removed, or why recovering it failed
}

// emptyGrace is how long an empty, unlocked partial is left alone: a writer
// reserves the name (fsutil.TempPath) a moment before it opens and locks the
// file.
const emptyGrace = time.Minute

// RecoverPartials finds the clips and snapshots in dir whose writer died
// before it finished them (a crash, a SIGKILL, a power cut): the hidden
// partial files that fsutil.TempPath names and that no process holds
// (fsutil.LockFile). A clip with at least one complete fragment, or a
// complete PNG or JPEG picture, is renamed beside the file it was meant to
// become, as "NAME (recovered).EXT" (never replacing a file: "NAME
// (recovered 2).EXT" and so on); a clip is first cut back to its last
// complete fragment. A partial with nothing playable in it is removed.
// Partials of other kinds of file, and those still being written, are left
// alone. A folder that cannot be read gives no result.
func RecoverPartials(dir string) []Recovered {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []Recovered
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		target, ok := fsutil.PartialTarget(e.Name())
		if !ok {
			continue
		}
		kind := strings.ToLower(filepath.Ext(target))
		if kind != ".mp4" && kind != ".png" && kind != ".jpg" && kind != ".jpeg" {
			continue
		}
		r, ok := recoverPartial(filepath.Join(dir, e.Name()), filepath.Join(dir, target), kind)
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// recoverPartial deals with one partial file; ok is false when it was left
// alone (being written, or too young to judge).
func recoverPartial(partial, target, kind string) (r Recovered, ok bool) {
	r.Partial = partial
	f, err := os.OpenFile(partial, os.O_RDWR, 0)
	if err != nil {
		return r, false // gone meanwhile, or not ours to touch
	}
	defer f.Close() // also releases the lock, after the rename
	if err := fsutil.LockFile(f); err != nil {
		return r, false // its writer is alive
	}
	st, err := f.Stat()
	if err != nil {
		return r, false
	}
	if st.Size() == 0 && time.Since(st.ModTime()) < emptyGrace {
		return r, false
	}
	var playable bool
	switch kind {
	case ".mp4":
		playable, err = trimToFragments(f)
		if err == nil && !playable {
			err = errors.New("no complete video fragment")
		}
	default:
		playable, err = completePicture(f, st.Size(), kind)
		if err == nil && !playable {
			err = errors.New("picture cut short")
		}
	}
	if playable {
		if err := f.Sync(); err != nil {
			r.Err = fmt.Errorf("recover %s: %w", partial, err)
			return r, true
		}
		r.Path, r.Err = fsutil.MoveRecovered(partial, target)
		return r, true
	}
	if rmErr := os.Remove(partial); rmErr != nil {
		r.Err = fmt.Errorf("recover %s: %w", partial, errors.Join(err, rmErr))
		return r, true
	}
	r.Removed, r.Err = true, err
	return r, true
}

// completePicture reports whether f holds a whole PNG (it ends with the
// IEND chunk) or JPEG (it starts with SOI and ends with EOI).
func completePicture(f *os.File, size int64, kind string) (bool, error) {
	var head [8]byte
	var tail [12]byte
	if size < int64(len(tail)) {
		return false, nil
	}
	if _, err := f.ReadAt(head[:], 0); err != nil && err != io.EOF {
		return false, err
	}
	if _, err := f.ReadAt(tail[:], size-int64(len(tail))); err != nil && err != io.EOF {
		return false, err
	}
	if kind == ".png" {
		return bytes.Equal(head[:], []byte("\x89PNG\r\n\x1a\n")) &&
			bytes.Equal(tail[:], []byte("\x00\x00\x00\x00IEND\xaeB`\x82")), nil
	}
	return head[0] == 0xFF && head[1] == 0xD8 && tail[10] == 0xFF && tail[11] == 0xD9, nil
}

// RecoveryReport says in one line what RecoverPartials did, or returns ""
// if it did nothing.
func RecoveryReport(rs []Recovered) string {
	var saved, removed, failed []string
	for _, r := range rs {
		switch {
		case r.Path != "":
			saved = append(saved, r.Path)
		case r.Removed:
			removed = append(removed, fmt.Sprintf("%s (%v)", filepath.Base(r.Partial), r.Err))
		default:
			failed = append(failed, r.Err.Error())
		}
	}
	sort.Strings(saved)
	sort.Strings(removed)
	sort.Strings(failed)
	var parts []string
	if len(saved) > 0 {
		clips := 0
		for _, p := range saved {
			if strings.EqualFold(filepath.Ext(p), ".mp4") {
				clips++
			}
		}
		parts = append(parts, fmt.Sprintf("recovered %s: %s",
			countNouns(clips, "interrupted recording", len(saved)-clips, "interrupted snapshot"), strings.Join(saved, ", ")))
	}
	if len(removed) > 0 {
		parts = append(parts, "removed unusable partial files: "+strings.Join(removed, ", "))
	}
	if len(failed) > 0 {
		parts = append(parts, "could not recover: "+strings.Join(failed, ", "))
	}
	return strings.Join(parts, "; ")
}

// countNouns says "an A", "2 As", "an A and a B"... for a of A and b of B.
func countNouns(a int, nounA string, b int, nounB string) string {
	one := func(n int, noun string) string {
		switch n {
		case 0:
			return ""
		case 1:
			return "an " + noun
		}
		return fmt.Sprintf("%d %ss", n, noun)
	}
	sa, sb := one(a, nounA), one(b, nounB)
	if sa != "" && sb != "" {
		return sa + " and " + sb
	}
	return sa + sb
}
