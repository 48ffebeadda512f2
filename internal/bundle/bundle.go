// Package bundle says where the files shipped with mgvton are looked for:
// beside the executable, in its parent folder (bin/ in a checkout), and in
// the working directory; assets also in $MGVTON_ASSETS.
package bundle

import (
	"os"
	"path/filepath"
)

// AssetsEnv names an assets folder to search first.
const AssetsEnv = "MGVTON_ASSETS"

// Dirs returns the folders, in search order, that may hold the bundled
// folders (assets/, models/, lib/): the executable's folder (symlinks
// resolved), its parent, and the working directory.
func Dirs() []string {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		d := filepath.Dir(exe)
		dirs = append(dirs, d, filepath.Dir(d))
	}
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, wd)
	}
	return dirs
}

// AssetDirs returns the candidate assets folders in search order:
// $MGVTON_ASSETS, then assets/ in each of Dirs.
func AssetDirs() []string {
	var dirs []string
	if a := os.Getenv(AssetsEnv); a != "" {
		dirs = append(dirs, a)
	}
	for _, d := range Dirs() {
		dirs = append(dirs, filepath.Join(d, "assets"))
	}
	return dirs
}
