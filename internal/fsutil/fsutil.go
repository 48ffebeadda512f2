// Package fsutil writes output files so that a reader never sees half of
// one: data goes to a temporary file beside the target, is synced, and is
// renamed over the target only when complete.
package fsutil

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// TempPath returns a fresh hidden file name beside path for a partial write
// (the file is created empty, so the name is reserved).
func TempPath(path string) (string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if err := CheckDir(dir); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "."+base+".partial-*"+filepath.Ext(base))
	if err != nil {
		return "", err
	}
	name := f.Name()
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// CheckDir reports a missing or non-directory output folder by name.
func CheckDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("output folder %s: %w", dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("output folder %s: not a directory", dir)
	}
	return nil
}

// WriteFile writes data to path atomically: readers, and a crash at any
// moment, see either the old file or the complete new one, and a failure
// leaves no partial file behind. The file and its folder are synced.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return WriteWith(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteWith is WriteFile with the content written by write: it goes to a
// locked temporary file beside path (TempPath), which is synced and renamed
// over path (Commit) only when write and the sync succeeded; otherwise it is
// removed and path is left as it was.
func WriteWith(path string, perm os.FileMode, write func(w io.Writer) error) error {
	tmp, err := TempPath(path)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	// The lock marks the file as being written (see partial.go) until it has
	// its final name: f stays open until then.
	defer f.Close()
	if err := LockFile(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := Commit(tmp, path); err != nil {
		return err
	}
	ok = true
	return f.Close()
}

// Commit renames a completed temporary file over path and syncs the folder,
// so that the rename survives a crash.
func Commit(tmp, path string) error {
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return d.Close()
}
