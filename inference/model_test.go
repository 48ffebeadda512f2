package inference

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"mgvton/internal/matleak"
	"mgvton/internal/repotest"
)

var t0ctx = context.Background()

// The fixture graphs were exported from PyTorch; the reference outputs were
// computed by PyTorch from the same PNGs. The Go path (PNG -> tensor ->
// ONNX Runtime) must agree to within float32 rounding.
const refTolerance = 1e-4

func TestStagesMatchPyTorchReference(t *testing.T) {
	matleak.Check(t)
	m := loadFixture(t, fixtureDir)
	g := fixtureGarment(t, m)
	person := readImage(t, "testdata/person.png", gocv.IMReadColor) // the model's input size
	warp, out := tensors{}, tensors{}
	if err := m.warp(t0ctx, person, g, warp); err != nil {
		t.Fatal(err)
	}
	if err := m.gen(t0ctx, person, warp, out); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  []float32
	}{
		{"warped_garment", warp[TensorWarpedGarment]},
		{"warped_mask", warp[TensorWarpedMask]},
		{"flow", warp["flow"]},
		{"tryon", out[TensorTryOn]},
		{"composite_mask", out["composite_mask"]},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := maxAbsDiff(t, c.got, readRef(t, "ref_"+c.name+".bin"))
			t.Logf("max abs diff vs PyTorch: %.2g", d)
			if d > refTolerance {
				t.Errorf("max abs diff %g; want <= %g", d, refTolerance)
			}
		})
	}
}

func TestGarmentStageIsCachedAndUsed(t *testing.T) {
	matleak.Check(t)
	m := loadFixture(t, "testdata/tiny3")
	g := fixtureGarment(t, m)
	if _, ok := g.t["garment_feat"]; !ok {
		t.Fatalf("garment stage output not cached: have %v", keys(g.t))
	}
	person := readImage(t, "testdata/person.png", gocv.IMReadColor)
	res, err := m.TryOn(t0ctx, person, g)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	w, h := m.Size()
	got := make([]float32, 3*w*h)
	if err := imageToTensor(got, res); err != nil {
		t.Fatal(err)
	}
	// TryOn returns 8-bit pixels: allow half a quantisation step plus rounding.
	if d := maxAbsDiff(t, got, readRef(t, "ref3_tryon.bin")); d > 1.0/127.5+refTolerance {
		t.Errorf("8-bit try-on vs PyTorch: max abs diff %g; want <= %g", d, 1.0/127.5+refTolerance)
	}
}

func TestGarmentFromAnotherModelIsRefused(t *testing.T) {
	m1 := loadFixture(t, fixtureDir)
	m2 := loadFixture(t, fixtureDir)
	g := fixtureGarment(t, m1)
	person := readImage(t, "testdata/person.png", gocv.IMReadColor)
	res, err := m2.TryOn(t0ctx, person, g)
	res.Close()
	if err == nil || !strings.Contains(err.Error(), "another model") {
		t.Fatalf("TryOn with a foreign garment: got %v; want an error", err)
	}
}

func keys(t tensors) []string {
	var out []string
	for k := range t {
		out = append(out, k)
	}
	return out
}

// copyFixture copies the tiny fixture into a temp dir and lets edit change
// its manifest (as a generic JSON tree) before writing it back.
func copyFixture(t *testing.T, edit func(m map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"warp.onnx", "gen.onnx"} {
		data, err := os.ReadFile(filepath.Join(fixtureDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(fixtureDir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	out, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, ManifestName), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tensorAt returns the manifest's JSON object for stage/role[i].
func tensorAt(m map[string]any, stage, role string, i int) map[string]any {
	return m["stages"].(map[string]any)[stage].(map[string]any)[role].([]any)[i].(map[string]any)
}

func TestManifestMismatchNamesTheTensor(t *testing.T) {
	lib := repotest.LibraryPath(t)
	cases := []struct {
		name string
		edit func(m map[string]any)
		raw  string // replaces manifest.json entirely when set
		want []string
	}{
		{"output renamed", func(m map[string]any) { tensorAt(m, "warp", "outputs", 2)["name"] = "flows" },
			"", []string{"stage warp", `"flows"`, "not in the graph"}},
		{"input nobody provides", func(m map[string]any) {
			tensorAt(m, "warp", "inputs", 2)["name"] = "cloth_mask"
		}, "", []string{"stage warp", `"cloth_mask"`}},
		{"channel count", func(m map[string]any) { tensorAt(m, "gen", "outputs", 1)["shape"] = []int{1, 3, 64, 48} },
			"", []string{"stage gen", `"composite_mask"`, "shape"}},
		{"model size", func(m map[string]any) { m["height"] = 128 },
			"", []string{"stage warp", `"person"`, "shape"}},
		{"graph dimension", func(m map[string]any) {
			m["stages"].(map[string]any)["gen"].(map[string]any)["outputs"].([]any)[1].(map[string]any)["kind"] = "feature"
			tensorAt(m, "gen", "outputs", 1)["shape"] = []int{1, 2, 64, 48}
		}, "", []string{"stage gen", `"composite_mask"`, "in the graph"}},
		{"missing stage", func(m map[string]any) { delete(m["stages"].(map[string]any), "gen") },
			"", []string{`stage "gen" is missing`}},
		{"unknown kind", func(m map[string]any) { tensorAt(m, "warp", "inputs", 0)["kind"] = "rgb" },
			"", []string{`"person"`, `unknown kind "rgb"`}},
		{"file escapes folder", func(m map[string]any) {
			m["stages"].(map[string]any)["warp"].(map[string]any)["file"] = "../warp.onnx"
		}, "", []string{"stage warp", "plain file name"}},
		{"format", func(m map[string]any) { m["format"] = 2 }, "", []string{"format 2"}},
		{"unknown field", func(m map[string]any) { m["colour"] = "red" }, "", []string{"parse", "colour"}},
		{"not json", nil, "{not json", []string{"parse"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyFixture(t, c.edit)
			if c.raw != "" {
				os.WriteFile(filepath.Join(dir, ManifestName), []byte(c.raw), 0o644)
			}
			m, err := LoadModel(dir, Options{LibraryPath: lib})
			if err == nil {
				m.Close()
				t.Fatalf("LoadModel: got no error; want one mentioning %q", c.want)
			}
			if !errors.Is(err, ErrManifest) {
				t.Errorf("error %q does not wrap ErrManifest", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q; want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines; want one line", err)
			}
		})
	}
}

func TestLoadModelBadFiles(t *testing.T) {
	lib := repotest.LibraryPath(t)
	t.Run("not an onnx file", func(t *testing.T) {
		dir := copyFixture(t, nil)
		os.WriteFile(filepath.Join(dir, "warp.onnx"), []byte("this is not a graph"), 0o644)
		_, err := LoadModel(dir, Options{LibraryPath: lib})
		if err == nil || !strings.Contains(err.Error(), "warp.onnx") {
			t.Fatalf("got %v; want an error naming warp.onnx", err)
		}
	})
	t.Run("missing graph", func(t *testing.T) {
		dir := copyFixture(t, nil)
		os.Remove(filepath.Join(dir, "gen.onnx"))
		_, err := LoadModel(dir, Options{LibraryPath: lib})
		if err == nil || !strings.Contains(err.Error(), "gen.onnx") {
			t.Fatalf("got %v; want an error naming gen.onnx", err)
		}
	})
	t.Run("missing folder", func(t *testing.T) {
		_, err := LoadModel(filepath.Join(t.TempDir(), "nope"), Options{LibraryPath: lib})
		if err == nil || !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("got %v; want not-exist", err)
		}
	})
	t.Run("close twice", func(t *testing.T) {
		m := loadFixture(t, fixtureDir)
		m.Close()
		m.Close()
		g := &Garment{model: m, t: tensors{}}
		if err := m.warp(t0ctx, gocv.Mat{}, g, tensors{}); !errors.Is(err, ErrClosed) {
			t.Fatalf("warp after Close: got %v; want ErrClosed", err)
		}
	})
}

func TestRunIsCancelledByContext(t *testing.T) {
	m := loadFixture(t, fixtureDir)
	g := fixtureGarment(t, m)
	ctx, cancel := context.WithCancel(t0ctx)
	cancel()
	w, h := m.Size()
	person := gocv.NewMatWithSizeFromScalar(gocv.Scalar{}, h, w, gocv.MatTypeCV8UC3)
	defer person.Close()
	err := m.warp(ctx, person, g, tensors{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("warp with a cancelled context: got %v; want context.Canceled", err)
	}
	// The stage still works afterwards (the terminate flag was cleared).
	if err := m.warp(t0ctx, person, g, tensors{}); err != nil {
		t.Fatalf("warp after a cancelled run: %v", err)
	}
}
