package cli

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"mgvton/garments"
)

// garmentsShirtPhoto writes a plain synthetic shop photo (a t-shirt shape on
// near-white) to path.
func garmentsShirtPhoto(tb testing.TB, path string) {
	tb.Helper()
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(244, 245, 246, 0), 320, 240, gocv.MatTypeCV8UC3)
	defer img.Close()
	pts := [][]image.Point{{{90, 40}, {150, 40}, {200, 70}, {225, 120}, {190, 130}, {180, 110},
		{180, 290}, {60, 290}, {60, 110}, {50, 130}, {15, 120}, {40, 70}}}
	pv := gocv.NewPointsVectorFromPoints(pts)
	defer pv.Close()
	gocv.FillPoly(&img, pv, color.RGBA{R: 30, G: 60, B: 140})
	if !gocv.IMWrite(path, img) {
		tb.Fatalf("write %s", path)
	}
}

// runGarmentsCLI runs mgvton with args and returns the exit status, stdout and
// stderr.
func runGarmentsCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	garmentsStdout, garmentsStderr = &stdout, &stderr
	defer func() { garmentsStdout, garmentsStderr = os.Stdout, os.Stderr }()
	code := mainTo(&stderr, args)
	return code, stdout.String(), stderr.String()
}

func TestGarmentsCommand(t *testing.T) {
	root := t.TempDir()
	assets := filepath.Join(root, "assets")
	data := filepath.Join(root, "data")
	t.Setenv("MGVTON_ASSETS", assets)
	t.Setenv("XDG_DATA_HOME", data)
	userDir := filepath.Join(data, "mgvton", "garments")

	// The bundled catalog: one garment imported into assets/garments.
	src := filepath.Join(root, "src")
	os.MkdirAll(src, 0o755)
	shirt := filepath.Join(src, "blue_shirt.png")
	garmentsShirtPhoto(t, shirt)
	boot, err := garments.OpenLibrary("", filepath.Join(assets, "garments"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := boot.Import(shirt, garments.ImportOptions{Name: "Bundled tee", Category: garments.CategoryTShirt}); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(src, "notes.txt")
	os.WriteFile(notes, []byte("not a picture\n"), 0o644)

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // substring
		wantStderr string // substring; "" means stderr must be empty
	}{
		{"list", []string{"garments", "list"}, 0, "bundled-tee  Bundled tee  t-shirt   bundled", ""},
		{"add", []string{"garments", "add", shirt, "-name", "My shirt", "-category", "t-shirt", "-tags", "blue,cotton"}, 0, "added my-shirt (My shirt, t-shirt)", ""},
		{"add flags first", []string{"garments", "add", "-name", "Second", shirt}, 0, "added second (Second, other)", ""},
		{"add json", []string{"garments", "add", "-json", "--", shirt}, 0, `"id":"blue-shirt"`, ""},
		{"list after add", []string{"garments", "list"}, 0, "my-shirt     My shirt     t-shirt   user     blue,cotton", ""},
		{"add not an image", []string{"garments", "add", notes}, 1, "",
			"mgvton garments: import " + notes + ": not a JPEG, PNG or WebP image\n"},
		{"add missing file", []string{"garments", "add", filepath.Join(src, "nope.jpg")}, 1, "", "no such file"},
		{"add no file", []string{"garments", "add", "-name", "x"}, 2, "", "want one FILE"},
		{"add two files", []string{"garments", "add", shirt, shirt}, 2, "", "want one FILE, got 2"},
		{"add bad category", []string{"garments", "add", shirt, "-category", "hat"}, 2, "", `unknown category "hat"`},
		{"add bad flag", []string{"garments", "add", shirt, "-colour", "red"}, 2, "", "flag provided but not defined"},
		{"remove", []string{"garments", "remove", "my-shirt"}, 0, "removed my-shirt", ""},
		{"remove again", []string{"garments", "remove", "my-shirt"}, 1, "", "mgvton garments: remove my-shirt: no such garment\n"},
		{"remove bundled", []string{"garments", "remove", "bundled-tee"}, 1, "", "bundled with mgvton and cannot be removed"},
		{"remove no id", []string{"garments", "remove"}, 2, "", "want one ID"},
		{"unknown subcommand", []string{"garments", "paint"}, 2, "", `unknown subcommand "paint"`},
		{"no subcommand", []string{"garments"}, 2, "", "usage: mgvton garments"},
		{"help", []string{"garments", "-h"}, 0, "", "usage: mgvton garments"},
		{"list help", []string{"garments", "list", "-h"}, 0, "", "-json"},
		{"list extra argument", []string{"garments", "list", "x"}, 2, "", `unexpected argument "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runGarmentsCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit status %d; want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout %q; want it to contain %q", stdout, tt.wantStdout)
			}
			if tt.wantStderr == "" && stderr != "" || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q; want %q", stderr, tt.wantStderr)
			}
			if code == 1 && strings.Count(stderr, "\n") != 1 {
				t.Errorf("error output %q is not one line", stderr)
			}
		})
	}

	t.Run("list json", func(t *testing.T) {
		code, stdout, _ := runGarmentsCLI(t, "garments", "list", "-json")
		if code != 0 {
			t.Fatalf("exit status %d; want 0", code)
		}
		var got struct {
			Garments []garments.Garment `json:"garments"`
			Warnings []string           `json:"warnings"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, stdout)
		}
		var ids []string
		for _, g := range got.Garments {
			ids = append(ids, g.ID)
		}
		if want := "bundled-tee second blue-shirt"; strings.Join(ids, " ") != want || len(got.Warnings) != 0 {
			t.Errorf("garments %q, warnings %q; want %q and none", ids, got.Warnings, want)
		}
	})

	t.Run("corrupt user catalog", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(userDir, garments.CatalogFile), []byte("{oops"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runGarmentsCLI(t, "garments", "list")
		if code != 0 || !strings.Contains(stdout, "bundled-tee") || !strings.HasPrefix(stderr, "mgvton garments: warning: read ") ||
			!strings.Contains(stderr, "corrupt catalog") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("list = %d, %q, %q; want 0, the bundled garment and a one-line warning", code, stdout, stderr)
		}
		code, _, stderr = runGarmentsCLI(t, "garments", "add", shirt)
		if code != 1 || !strings.Contains(stderr, "corrupt catalog") {
			t.Errorf("add = %d, %q; want 1 and the corrupt catalog error", code, stderr)
		}
	})
}
