package person

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	ort "github.com/yalue/onnxruntime_go"

	"mgvton/internal/ortenv"
)

// graph is one ONNX graph with one image input and the outputs the tracker
// reads, all bound to preallocated tensors (create once, fill, run again).
// One goroutine runs it at a time.
type graph struct {
	path    string
	size    int  // input height and width (square inputs)
	nchw    bool // input layout; MediaPipe's graphs convert as NHWC
	session *ort.AdvancedSession
	in      *ort.Tensor[float32]
	outs    []*ort.Tensor[float32] // in the order of the roles asked for
}

// outputRole picks one output of a graph by its shape.
type outputRole struct {
	name  string
	match func(dims []int64) bool
}

// elems is the product of the dimensions, treating dynamic ones as 1.
func elems(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		if d > 0 {
			n *= d
		}
	}
	return n
}

// loadGraph opens path, checks that it has one float image input of
// size x size x 3 (NHWC or NCHW) and finds one output per role.
func loadGraph(path string, size int, roles []outputRole, threads int) (g *graph, err error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("person: model %s: %w", path, err)
	}
	ins, outs, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return nil, fmt.Errorf("person: model %s: not a readable onnx graph: %w", path, err)
	}
	if len(ins) != 1 || ins[0].DataType != ort.TensorElementDataTypeFloat || len(ins[0].Dimensions) != 4 {
		return nil, fmt.Errorf("person: model %s: want one float input of 4 dimensions, got %d inputs", path, len(ins))
	}
	g = &graph{path: path, size: size}
	defer func() {
		if err != nil {
			g.destroy()
		}
	}()
	d := ins[0].Dimensions
	switch {
	case d[1] == int64(size) && d[2] == int64(size) && d[3] == 3:
	case d[1] == 3 && d[2] == int64(size) && d[3] == int64(size):
		g.nchw = true
	default:
		return g, fmt.Errorf("person: model %s: input %s is %v; want %dx%dx3", path, ins[0].Name, d, size, size)
	}
	inShape := ort.NewShape(1, 3, int64(size), int64(size))
	if !g.nchw {
		inShape = ort.NewShape(1, int64(size), int64(size), 3)
	}
	if g.in, err = ort.NewEmptyTensor[float32](inShape); err != nil {
		return g, fmt.Errorf("person: model %s: %w", path, err)
	}
	var names []string
	var vals []ort.Value
	for _, r := range roles {
		i := slices.IndexFunc(outs, func(o ort.InputOutputInfo) bool {
			return o.DataType == ort.TensorElementDataTypeFloat && r.match(o.Dimensions) && !slices.Contains(names, o.Name)
		})
		if i < 0 {
			return g, fmt.Errorf("person: model %s: no output for the %s", path, r.name)
		}
		dims := slices.Clone([]int64(outs[i].Dimensions))
		for k := range dims {
			dims[k] = max(dims[k], 1)
		}
		t, err := ort.NewEmptyTensor[float32](ort.NewShape(dims...))
		if err != nil {
			return g, fmt.Errorf("person: model %s: %w", path, err)
		}
		g.outs = append(g.outs, t)
		names = append(names, outs[i].Name)
		vals = append(vals, t)
	}
	so, err := ortenv.SessionOptions(threads)
	if err != nil {
		return g, fmt.Errorf("person: model %s: %w", path, err)
	}
	defer so.Destroy()
	g.session, err = ort.NewAdvancedSession(path, []string{ins[0].Name}, names, []ort.Value{g.in}, vals, so)
	if err != nil {
		return g, fmt.Errorf("person: model %s: %w", path, err)
	}
	return g, nil
}

func (g *graph) run() error {
	if err := g.session.Run(); err != nil {
		return fmt.Errorf("person: run %s: %w", filepath.Base(g.path), err)
	}
	return nil
}

func (g *graph) destroy() {
	if g == nil {
		return
	}
	if g.session != nil {
		g.session.Destroy()
		g.session = nil
	}
	if g.in != nil {
		g.in.Destroy()
		g.in = nil
	}
	for _, t := range g.outs {
		t.Destroy()
	}
	g.outs = nil
}
