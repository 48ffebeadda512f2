//go:build !(linux && cgo)

package memtune

const (
	paramArenaMax      = 0
	paramMMapThreshold = 1
)

func mallopt(int, int) (bool, string) { return false, "not glibc" }

func mmappedAfterBigFree(int, int) int { return -1 }
