package memtune

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The probe runs in a fresh process (this test binary again), so that no
// earlier allocation of the test run has moved glibc's threshold.
const probeEnv = "MEMTUNE_TEST_PROBE"

func TestMain(m *testing.M) {
	switch os.Getenv(probeEnv) {
	case "":
		os.Exit(m.Run())
	case "apply":
		Apply()
	}
	// A 1 MB block after an 8 MB one was freed: "mmap" or "heap".
	switch mmappedAfterBigFree(8<<20, 1<<20) {
	case 1:
		os.Stdout.WriteString("mmap")
	case 0:
		os.Stdout.WriteString("heap")
	default:
		os.Stdout.WriteString("not glibc")
	}
	os.Exit(0)
}

func probe(t *testing.T, mode string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), probeEnv+"="+mode), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe %s: %v", mode, err)
	}
	return strings.TrimSpace(string(out))
}

// TestApplyKeepsFrameBuffersMapped: with glibc's defaults a frame-sized
// block comes from the heap once a bigger one was freed (the threshold
// rose); after Apply it is still mmapped, so freeing it gives it back.
func TestApplyKeepsFrameBuffersMapped(t *testing.T) {
	before := probe(t, "plain")
	if before == "not glibc" {
		t.Skip("not glibc")
	}
	if before != "heap" {
		t.Errorf("glibc defaults: 1 MB block after freeing 8 MB from the %s; want the heap (dynamic threshold)", before)
	}
	if got := probe(t, "apply"); got != "mmap" {
		t.Errorf("after Apply: 1 MB block from the %s; want mmap", got)
	}
	// The user's own setting wins: a 16 MB threshold keeps 1 MB blocks in
	// the heap, and Apply does not lower it.
	if got := probe(t, "apply", "MALLOC_MMAP_THRESHOLD_=16777216"); got != "heap" {
		t.Errorf("after Apply under MALLOC_MMAP_THRESHOLD_=16 MB: from the %s; want the heap", got)
	}
}

func TestApplyReportsWhatItLeft(t *testing.T) {
	t.Setenv("MALLOC_ARENA_MAX", "4")
	t.Setenv("GLIBC_TUNABLES", "")
	got := Apply()
	if len(got) != 2 || got[0].Name != "arena_max" || got[0].Set || !strings.Contains(got[0].Why, "MALLOC_ARENA_MAX") {
		t.Errorf("Apply under MALLOC_ARENA_MAX=4: %+v; want arena_max left, naming the variable", got)
	}
	t.Setenv("MALLOC_ARENA_MAX", "")
	t.Setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=1")
	for _, s := range Apply() {
		if s.Set {
			t.Errorf("Apply under GLIBC_TUNABLES with malloc options: set %s", s.Name)
		}
	}
}
