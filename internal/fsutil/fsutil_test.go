package fsutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.png")
	if err := WriteFile(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "two" {
		t.Errorf("content: got %q; want %q", got, "two")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d files; want only out.png (no temporaries)", len(entries))
	}
}

// TestWriteWithFailure: a write that fails half-way leaves the old file
// whole and no temporary file behind.
func TestWriteWithFailure(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "catalog.json")
	if err := WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("crash")
	err := WriteWith(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("half of the n"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WriteWith error: got %v; want %v", err, boom)
	}
	if got, _ := os.ReadFile(p); string(got) != "old" {
		t.Errorf("file after a failed write: got %q; want %q", got, "old")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("folder holds %d files; want only catalog.json", len(entries))
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode: got %v, %v; want -rw-r--r--", st.Mode(), err)
	}
}

// TestWriteFilePerm: the file gets perm whatever the umask.
func TestWriteFilePerm(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.json")
	if err := WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode: got %v, %v; want -rw-------", st.Mode(), err)
	}
}

func TestWriteFileMissingFolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope", "out.png")
	err := WriteFile(p, []byte("x"), 0o644)
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("got %v; want an error naming the missing folder", err)
	}
}

func TestWriteFileIntoAFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "file")
	os.WriteFile(f, nil, 0o644)
	if err := WriteFile(filepath.Join(f, "out.png"), []byte("x"), 0o644); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("got %v; want 'not a directory'", err)
	}
}

func TestPartialTarget(t *testing.T) {
	dir := t.TempDir()
	for _, target := range []string{"out.mp4", "a b.png", "noext", "x.partial-1.mp4"} {
		tmp, err := TempPath(filepath.Join(dir, target))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := PartialTarget(filepath.Base(tmp))
		if !ok || got != target {
			t.Errorf("PartialTarget(%q) = %q, %v; want %q, true", filepath.Base(tmp), got, ok, target)
		}
	}
	for _, name := range []string{"out.mp4", ".out.mp4", ".out.mp4.partial-.mp4", ".out.mp4.partial-12x.mp4", ".out.mp4.partial-12.png", "..partial-1"} {
		if got, ok := PartialTarget(name); ok {
			t.Errorf("PartialTarget(%q) = %q, true; want false", name, got)
		}
	}
}

func TestMoveRecoveredNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "clip.mp4")
	for i, want := range []string{"clip (recovered).mp4", "clip (recovered 2).mp4", "clip (recovered 3).mp4"} {
		src := filepath.Join(dir, ".partial")
		os.WriteFile(src, []byte{byte('a' + i)}, 0o644)
		got, err := MoveRecovered(src, target)
		if err != nil || got != filepath.Join(dir, want) {
			t.Fatalf("MoveRecovered #%d = %q, %v; want %q", i+1, got, err, want)
		}
		if _, err := os.Stat(src); err == nil {
			t.Errorf("%s still there after the move", src)
		}
	}
	for i, name := range []string{"clip (recovered).mp4", "clip (recovered 2).mp4", "clip (recovered 3).mp4"} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != string(rune('a'+i)) {
			t.Errorf("%s holds %q; want %q", name, b, string(rune('a'+i)))
		}
	}
}

func TestLockFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, nil, 0o644)
	a, _ := os.Open(p)
	defer a.Close()
	b, _ := os.Open(p)
	defer b.Close()
	if err := LockFile(a); err != nil {
		t.Fatal(err)
	}
	if err := LockFile(b); err != ErrInUse {
		t.Fatalf("second lock: got %v; want ErrInUse", err)
	}
	a.Close()
	if err := LockFile(b); err != nil {
		t.Fatalf("lock after the holder closed: %v", err)
	}
}
