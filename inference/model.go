package inference

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"mgvton/internal/ortenv"
)

// ErrClosed is returned by a Model or Pipeline used after Close.
var ErrClosed = errors.New("inference: closed")

// Options configure how a model is loaded.
type Options struct {
	// LibraryPath is the ONNX Runtime library; empty means LibraryPath("").
	LibraryPath string
	// Threads overrides the per-stage intra-op thread counts of the manifest
	// when > 0.
	Threads int
}

// Model is a loaded model folder: one ONNX Runtime session per stage, each
// with preallocated input and output tensors. A stage may be run by one
// goroutine at a time; different stages may run concurrently.
type Model struct {
	Dir      string
	Manifest *Manifest
	stages   map[string]*stage

	closeOnce sync.Once
}

// stage is one graph with its ONNX Runtime session and its bound tensors.
type stage struct {
	mu      sync.Mutex // one run at a time
	name    string
	spec    StageSpec
	session *ort.AdvancedSession
	opts    *ort.RunOptions
	inputs  []*ort.Tensor[float32]
	outputs []*ort.Tensor[float32]
}

// LoadModel loads the model folder dir: it reads the manifest, checks each
// graph against it and opens one session per stage.
func LoadModel(dir string, opts Options) (*Model, error) {
	if err := Init(opts.LibraryPath); err != nil {
		return nil, err
	}
	man, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	m := &Model{Dir: dir, Manifest: man, stages: map[string]*stage{}}
	for _, name := range stageOrder {
		spec, ok := man.Stages[name]
		if !ok {
			continue
		}
		path := filepath.Join(dir, spec.File)
		if err := checkGraph(name, spec, path); err != nil {
			m.Close()
			return nil, fmt.Errorf("model %s: %w", dir, err)
		}
		threads := spec.Threads
		if opts.Threads > 0 {
			threads = opts.Threads
		}
		s, err := newStage(name, spec, path, threads)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("model %s: %w", dir, err)
		}
		m.stages[name] = s
	}
	return m, nil
}

func newStage(name string, spec StageSpec, path string, threads int) (s *stage, err error) {
	s = &stage{name: name, spec: spec}
	defer func() {
		if err != nil {
			s.destroy()
		}
	}()
	alloc := func(specs []TensorSpec) ([]*ort.Tensor[float32], []ort.Value, []string, error) {
		ts := make([]*ort.Tensor[float32], 0, len(specs))
		vals := make([]ort.Value, 0, len(specs))
		names := make([]string, 0, len(specs))
		for _, t := range specs {
			tensor, err := ort.NewEmptyTensor[float32](ort.NewShape(t.Shape...))
			if err != nil {
				return ts, nil, nil, fmt.Errorf("stage %s: tensor %s: %w", name, t.Name, err)
			}
			ts = append(ts, tensor)
			vals = append(vals, tensor)
			names = append(names, t.Name)
		}
		return ts, vals, names, nil
	}
	var inVals, outVals []ort.Value
	var inNames, outNames []string
	if s.inputs, inVals, inNames, err = alloc(spec.Inputs); err != nil {
		return s, err
	}
	if s.outputs, outVals, outNames, err = alloc(spec.Outputs); err != nil {
		return s, err
	}
	// Warp and gen run at the same time on their own goroutines: worker
	// threads that spin while waiting would steal the other stage's cores.
	so, err := ortenv.SessionOptions(threads)
	if err != nil {
		return s, fmt.Errorf("stage %s: %w", name, err)
	}
	defer so.Destroy()
	if s.session, err = ort.NewAdvancedSession(path, inNames, outNames, inVals, outVals, so); err != nil {
		return s, fmt.Errorf("stage %s: open %s: %w", name, path, err)
	}
	if s.opts, err = ort.NewRunOptions(); err != nil {
		return s, fmt.Errorf("stage %s: run options: %w", name, err)
	}
	return s, nil
}

// run runs the stage; cancelling ctx terminates a run in progress.
func (s *stage) run(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { s.opts.Terminate() })
	err := s.session.RunWithOptions(s.opts)
	if !stop() {
		// The terminate flag was set (or is being set): clear it for the next run.
		s.opts.UnsetTerminate()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if err != nil {
		return fmt.Errorf("inference: run stage %s: %w", s.name, err)
	}
	return nil
}

// input returns the data of the named input tensor, or nil.
func (s *stage) input(name string) []float32 {
	for i, t := range s.spec.Inputs {
		if t.Name == name {
			return s.inputs[i].GetData()
		}
	}
	return nil
}

func (s *stage) destroy() {
	if s.session != nil {
		s.session.Destroy()
		s.session = nil
	}
	if s.opts != nil {
		s.opts.Destroy()
		s.opts = nil
	}
	for _, t := range append(s.inputs, s.outputs...) {
		if t != nil {
			t.Destroy()
		}
	}
	s.inputs, s.outputs = nil, nil
}

// Size returns the model's input size.
func (m *Model) Size() (width, height int) { return m.Manifest.Width, m.Manifest.Height }

// Close releases every session and tensor. It is safe to call more than once
// and on a half-loaded model.
func (m *Model) Close() error {
	m.closeOnce.Do(func() {
		for _, s := range m.stages {
			s.mu.Lock()
			s.destroy()
			s.mu.Unlock()
		}
	})
	return nil
}

// tensors is a named set of float32 buffers of one model's sizes.
type tensors map[string][]float32

// feed copies every input of s that is in src into the stage's own tensor.
func (s *stage) feed(src tensors) {
	for i, t := range s.spec.Inputs {
		if data, ok := src[t.Name]; ok {
			copy(s.inputs[i].GetData(), data)
		}
	}
}

// collect copies the stage's outputs into dst, allocating on first use.
func (s *stage) collect(dst tensors) {
	for i, t := range s.spec.Outputs {
		data := s.outputs[i].GetData()
		buf := dst[t.Name]
		if len(buf) != len(data) {
			buf = make([]float32, len(data))
			dst[t.Name] = buf
		}
		copy(buf, data)
	}
}
