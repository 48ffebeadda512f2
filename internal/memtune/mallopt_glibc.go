//go:build linux && cgo

package memtune

/*
#include <malloc.h>
#include <stdlib.h>

#if defined(__GLIBC__) && defined(M_ARENA_MAX)
static int mgv_mallopt(int param, int value) {
	int p = param == 0 ? M_ARENA_MAX : M_MMAP_THRESHOLD;
	return mallopt(p, value);
}
// mgv_mmapped_after_big_free frees a big block, then reports whether a
// block of mid size is still served by mmap (as a fixed threshold keeps
// it) rather than by the heap (where glibc's rising threshold puts it).
static int mgv_mmapped_after_big_free(size_t big, size_t mid) {
	// volatile: the compiler may drop a malloc whose block is never used.
	void *volatile b = malloc(big);
	free(b);
	struct mallinfo2 before = mallinfo2();
	void *volatile m = malloc(mid);
	struct mallinfo2 after = mallinfo2();
	free(m);
	return after.hblks > before.hblks;
}
#define MGV_GLIBC 1
#else
static int mgv_mallopt(int param, int value) { return 0; }
static int mgv_mmapped_after_big_free(size_t big, size_t mid) { return -1; }
#define MGV_GLIBC 0
#endif
static int mgv_glibc(void) { return MGV_GLIBC; }
*/
import "C"

const (
	paramArenaMax      = 0
	paramMMapThreshold = 1
)

func mallopt(param, value int) (bool, string) {
	if C.mgv_glibc() == 0 {
		return false, "not glibc"
	}
	if C.mgv_mallopt(C.int(param), C.int(value)) != 1 {
		return false, "mallopt refused it"
	}
	return true, ""
}

// mmappedAfterBigFree: see mgv_mmapped_after_big_free; -1 when not glibc.
func mmappedAfterBigFree(big, mid int) int {
	return int(C.mgv_mmapped_after_big_free(C.size_t(big), C.size_t(mid)))
}
