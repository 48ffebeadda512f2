package memtune

import (
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// The probe runs in a fresh process (this test binary again, whose
// constructor has run as the program's does), with the environment given.
const probeEnv = "MEMTUNE_TEST_PROBE"

func TestMain(m *testing.M) {
	if os.Getenv(probeEnv) == "" {
		os.Exit(m.Run())
	}
	// Arenas after 8 threads allocated at the same time.
	os.Stdout.WriteString(strconv.Itoa(arenasWithThreads(8)))
	os.Exit(0)
}

func probe(t *testing.T, env ...string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), probeEnv+"=1", "MALLOC_ARENA_MAX=", "GLIBC_TUNABLES=", "MGVTON_MEMTUNE="), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe %v: %v", env, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("probe %v: %q", env, out)
	}
	return n
}

// TestArenasLimitedFromTheStart: with glibc's defaults (memtune off) 8
// threads allocating at once make arenas of their own; with memtune,
// loaded before the Go runtime's threads, they share ArenaMax. The user's
// MALLOC_ARENA_MAX wins.
func TestArenasLimitedFromTheStart(t *testing.T) {
	off := probe(t, "MGVTON_MEMTUNE=off")
	if off < 0 {
		t.Skip("not glibc")
	}
	if off <= ArenaMax {
		t.Errorf("memtune off: %d arenas after 8 threads allocated; want more than %d", off, ArenaMax)
	}
	if got := probe(t); got != ArenaMax {
		t.Errorf("memtune on: %d arenas; want %d", got, ArenaMax)
	}
	if got := probe(t, "MALLOC_ARENA_MAX=4"); got != 4 {
		t.Errorf("under MALLOC_ARENA_MAX=4: %d arenas; want 4", got)
	}
}

func TestSettingsSayWhatWasSet(t *testing.T) {
	got := Settings()
	if len(got) != 1 || got[0].Name != "arena_max" || got[0].Value != ArenaMax {
		t.Fatalf("Settings: %+v", got)
	}
	// This test binary was loaded with the environment of the test run.
	user := os.Getenv("MALLOC_ARENA_MAX") != "" || strings.Contains(os.Getenv("GLIBC_TUNABLES"), "glibc.malloc.") ||
		os.Getenv("MGVTON_MEMTUNE") == "off"
	if got[0].Why != "not glibc" && got[0].Set == user {
		t.Errorf("Settings: %+v; the environment sets malloc options: %v", got, user)
	}
}

// The collector's target is GCPercent unless the environment sets GOGC
// (or turns memtune off).
func TestGCPercent(t *testing.T) {
	got := debug.SetGCPercent(100)
	debug.SetGCPercent(got)
	want := GCPercent
	if v := os.Getenv("GOGC"); v != "" {
		t.Skipf("GOGC=%s set by the environment", v)
	}
	if os.Getenv("MGVTON_MEMTUNE") == "off" {
		want = 100
	}
	if got != want {
		t.Errorf("GC percent %d; want %d", got, want)
	}
}
