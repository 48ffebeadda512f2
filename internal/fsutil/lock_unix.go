//go:build unix

package fsutil

import (
	"os"
	"syscall"
)

// LockFile takes an exclusive advisory lock on f without waiting: a file
// being written is marked as such for RecoverPartials-style scans of other
// processes. Closing every descriptor of the open file releases it.
func LockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch err {
		case nil:
			return nil
		case syscall.EINTR:
			continue
		case syscall.EWOULDBLOCK:
			return ErrInUse
		}
		return err
	}
}
