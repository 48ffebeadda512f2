package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The bad-input corpus (testdata/badinput, made by make_corpus.py there) run
// through the commands: every broken or hostile file gives exit status 1
// and a one-line error that names it, and leaves no output (nor a partial
// one) behind; a broken catalog is reported and left as it was.

const corpus = "../testdata/badinput"

func corpusFiles(t *testing.T, sub string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(corpus, sub))
	if err != nil || len(entries) == 0 {
		t.Fatalf("corpus %s: %v (%d entries; run testdata/badinput/make_corpus.py)", sub, err, len(entries))
	}
	var paths []string
	for _, e := range entries {
		paths = append(paths, filepath.Join(corpus, sub, e.Name()))
	}
	return paths
}

// expectOneLineError runs mgvton with args in a fresh process (so that what
// C libraries print on stderr counts too) and checks the error contract;
// outDir must stay empty.
func expectOneLineError(t *testing.T, env []string, outDir, names string, args ...string) {
	t.Helper()
	code, _, stderr := runExe(t, env, args...)
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if code != 1 || len(lines) != 1 {
		t.Errorf("mgvton %s: exit %d, stderr %q; want exit 1 and one line", strings.Join(args, " "), code, stderr)
	} else if !strings.Contains(stderr, names) {
		t.Errorf("mgvton %s: %q; want it to name %s", args[0], strings.TrimSpace(stderr), names)
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
		var left []string
		for _, e := range entries {
			left = append(left, e.Name())
		}
		t.Errorf("mgvton %s left %v in the output folder", args[0], left)
	}
}

func TestBadInputCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs about 150 commands")
	}
	withData := func(home string) []string { return append(os.Environ(), "XDG_DATA_HOME="+home) }
	env := withData(t.TempDir())
	person, garment := "../inference/testdata/person.png", "../inference/testdata/garment.png"
	t.Run("images", func(t *testing.T) {
		for _, img := range corpusFiles(t, "images") {
			name := filepath.Base(img)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				out := t.TempDir()
				expectOneLineError(t, env, out, name, "tryon", "-model", fixtureModel, "-person", img, "-garment", garment, "-o", filepath.Join(out, "out.png"))
				expectOneLineError(t, env, out, name, "tryon", "-model", fixtureModel, "-person", person, "-garment", img, "-o", filepath.Join(out, "out.png"))
				home := t.TempDir()
				expectOneLineError(t, withData(home), out, name, "garments", "add", img)
				if files := listTree(t, home); len(files) > 1 || (len(files) == 1 && filepath.Base(files[0]) != ".lock") {
					t.Errorf("garments add %s left %v in the catalog", name, files)
				}
			})
		}
	})
	t.Run("videos", func(t *testing.T) {
		for _, v := range corpusFiles(t, "videos") {
			name := filepath.Base(v)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				out := t.TempDir()
				expectOneLineError(t, env, out, name, "video", "-q", "-model", fixtureModel, "-in", v, "-garment", garment, "-o", filepath.Join(out, "out.mp4"))
				expectOneLineError(t, env, out, name, "record", "-model", fixtureModel, "-source", v, "-garment", garment, "-seconds", "1", "-o", filepath.Join(out, "out.mp4"))
			})
		}
	})
	t.Run("models", func(t *testing.T) {
		for _, m := range corpusFiles(t, "models") {
			name := filepath.Base(m)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				out := t.TempDir()
				expectOneLineError(t, env, out, name, "tryon", "-model", m, "-person", person, "-garment", garment, "-o", filepath.Join(out, "out.png"))
			})
		}
	})
	t.Run("catalogs", func(t *testing.T) {
		for _, c := range corpusFiles(t, "catalogs") {
			name := filepath.Base(c)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				data, err := os.ReadFile(c)
				if err != nil {
					t.Fatal(err)
				}
				home := t.TempDir()
				env := withData(home)
				dir := filepath.Join(home, "mgvton", "garments")
				os.MkdirAll(dir, 0o755)
				file := filepath.Join(dir, "catalog.json")
				os.WriteFile(file, data, 0o644)
				// Listing warns in one line and still lists the bundled garments.
				code, _, stderr := runExe(t, env, "garments", "list")
				if code != 0 || strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 || !strings.Contains(stderr, file) {
					t.Errorf("garments list: exit %d, stderr %q; want exit 0 and one warning naming %s", code, stderr, file)
				}
				// Adding to it is refused rather than overwriting the user's file.
				out := t.TempDir()
				expectOneLineError(t, env, out, "catalog.json", "garments", "add", garment)
				expectOneLineError(t, env, out, "catalog.json", "tryon", "-model", fixtureModel, "-person", person, "-garment", "mine", "-o", filepath.Join(out, "out.png"))
				if got, _ := os.ReadFile(file); !bytes.Equal(got, data) {
					t.Errorf("catalog.json was changed (%d bytes, was %d)", len(got), len(data))
				}
				if files := listTree(t, dir); len(files) != 2 { // catalog.json and .lock
					t.Errorf("catalog folder holds %v; want only catalog.json and .lock", files)
				}
			})
		}
	})
}

// listTree returns the files under dir.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	return files
}
