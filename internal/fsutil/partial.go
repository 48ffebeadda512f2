package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Partial files: TempPath names a partial write of dir/NAME
// ".NAME.partial-RANDOM.EXT" (EXT is NAME's extension, so that tools that
// go by it still know the format). A process that writes one holds an
// exclusive advisory lock on it (LockFile) until it is renamed or removed,
// so a partial that nobody holds was abandoned: its writer crashed or was
// killed. The lock belongs to the open file, so a child that inherited the
// descriptor (ffmpeg writing a clip) keeps it until it has finished too.

// PartialTarget returns NAME for a partial file name made by TempPath
// (base name only), and whether name is one.
func PartialTarget(name string) (string, bool) {
	if !strings.HasPrefix(name, ".") {
		return "", false
	}
	i := strings.LastIndex(name, ".partial-")
	if i <= 1 {
		return "", false
	}
	target := name[1:i]
	rest := name[i+len(".partial-"):] // RANDOM + EXT
	ext := filepath.Ext(target)
	if !strings.HasSuffix(rest, ext) {
		return "", false
	}
	random := strings.TrimSuffix(rest, ext)
	if random == "" {
		return "", false
	}
	for _, c := range random {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return target, true
}

// ErrInUse is returned by LockFile for a file another process holds.
var ErrInUse = errors.New("in use by another process")

// MoveRecovered moves src to the first free name of "NAME (recovered)EXT",
// "NAME (recovered 2)EXT", ... beside target (dir/NAME.EXT) and returns it.
// It never replaces a file: a hard link that fails if the name exists, then
// the removal of src. On file systems without hard links it falls back to
// a rename after checking that the name is free. When the move succeeded
// but the folder could not be synced, it returns the new name and the error.
func MoveRecovered(src, target string) (string, error) {
	dir := filepath.Dir(target)
	ext := filepath.Ext(target)
	stem := strings.TrimSuffix(filepath.Base(target), ext)
	for n := 1; n < 1000; n++ {
		suffix := " (recovered)"
		if n > 1 {
			suffix = fmt.Sprintf(" (recovered %d)", n)
		}
		dst := filepath.Join(dir, stem+suffix+ext)
		err := os.Link(src, dst)
		if err == nil {
			if err := os.Remove(src); err != nil {
				os.Remove(dst)
				return "", fmt.Errorf("recover %s: %w", src, err)
			}
			if err := syncDir(dir); err != nil {
				return dst, fmt.Errorf("recover %s: %w", src, err)
			}
			return dst, nil
		}
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		// No hard links here (FAT, some network file systems).
		if _, statErr := os.Lstat(dst); statErr == nil {
			continue
		}
		if err := os.Rename(src, dst); err != nil {
			return "", fmt.Errorf("recover %s: %w", src, err)
		}
		if err := syncDir(dir); err != nil {
			return dst, fmt.Errorf("recover %s: %w", src, err)
		}
		return dst, nil
	}
	return "", fmt.Errorf("recover %s: no free name beside %s", src, target)
}
