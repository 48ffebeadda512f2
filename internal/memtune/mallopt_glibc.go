//go:build linux && cgo

package memtune

/*
#cgo CFLAGS: -DMGV_ARENA_MAX=2
#cgo LDFLAGS: -lpthread
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GLIBC__) && defined(M_ARENA_MAX)
// mgv_state: 0 not tried, 1 set, -1 refused, 2 left (see mgv_why).
static int mgv_state;
static const char *mgv_why = "";

// Runs when the program is loaded, before the Go runtime starts its
// threads: glibc fixes the arena limit at a thread's first allocation,
// and the runtime's threads allocate (cgo's thread start) before main.
__attribute__((constructor)) static void mgv_memtune_init(void) {
	const char *off = getenv("MGVTON_MEMTUNE");
	const char *arenas = getenv("MALLOC_ARENA_MAX");
	const char *tunables = getenv("GLIBC_TUNABLES");
	if (off && strcmp(off, "off") == 0) {
		mgv_state = 2, mgv_why = "MGVTON_MEMTUNE=off";
	} else if (arenas && *arenas) {
		mgv_state = 2, mgv_why = "MALLOC_ARENA_MAX is set";
	} else if (tunables && strstr(tunables, "glibc.malloc.")) {
		mgv_state = 2, mgv_why = "GLIBC_TUNABLES sets malloc options";
	} else {
		mgv_state = mallopt(M_ARENA_MAX, MGV_ARENA_MAX) == 1 ? 1 : -1;
	}
}

// mgv_arenas_with_threads starts n threads that each allocate while all
// are alive (a thread's first allocation takes a new arena while the
// limit allows), then counts the arenas malloc_info reports.
static pthread_barrier_t mgv_barrier;
static void *mgv_alloc(void *arg) {
	void *volatile p = malloc(4096);
	pthread_barrier_wait(&mgv_barrier);
	free(p);
	return NULL;
}
static int mgv_arenas_with_threads(int n) {
	pthread_t t[64];
	if (n > 64) n = 64;
	pthread_barrier_init(&mgv_barrier, NULL, n);
	for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, mgv_alloc, NULL);
	for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
	pthread_barrier_destroy(&mgv_barrier);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	malloc_info(0, f);
	fclose(f);
	int heaps = 0;
	for (char *s = buf; (s = strstr(s, "<heap nr=")) != NULL; s++) heaps++;
	free(buf);
	return heaps;
}
#else
static int mgv_state = 2;
static const char *mgv_why = "not glibc";
static int mgv_arenas_with_threads(int n) { return -1; }
#endif
static int mgv_get_state(void) { return mgv_state; }
static const char *mgv_get_why(void) { return mgv_why; }
*/
import "C"

func state() (set bool, why string) {
	switch C.mgv_get_state() {
	case 1:
		return true, ""
	case -1:
		return false, "mallopt refused it"
	default:
		return false, C.GoString(C.mgv_get_why())
	}
}

// arenasWithThreads: see mgv_arenas_with_threads; -1 when not glibc.
func arenasWithThreads(n int) int { return int(C.mgv_arenas_with_threads(C.int(n))) }
