//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package garments

// lockDir is a no-op where flock is not available: the in-process mutex
// still serialises one program's changes.
func lockDir(dir string) (unlock func(), err error) { return func() {}, nil }
