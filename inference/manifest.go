package inference

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// ManifestName is the file that describes a model folder.
const ManifestName = "manifest.json"

// Stage names, in the order they run.
const (
	StageGarment = "garment" // optional: garment-only features, cached per garment
	StageWarp    = "warp"
	StageGen     = "gen"
)

// stageOrder is the order in which stages run.
var stageOrder = []string{StageGarment, StageWarp, StageGen}

// Names of the tensors the runtime provides and the ones it needs at the end.
const (
	TensorPerson        = "person"
	TensorGarment       = "garment"
	TensorGarmentMask   = "garment_mask"
	TensorWarpedGarment = "warped_garment"
	TensorWarpedMask    = "warped_mask"
	TensorTryOn         = "tryon"
	TensorCompositeMask = "composite_mask" // optional gen output: where the warped garment is used
)

// Tensor kinds: how values are normalised.
const (
	KindImage   = "image"   // RGB in [-1, 1]
	KindMask    = "mask"    // [0, 1]
	KindGrid    = "grid"    // sampling grid in [-1, 1], channel 0 = x
	KindFeature = "feature" // opaque
)

// ErrManifest wraps every problem found in a manifest or its graphs.
var ErrManifest = errors.New("model does not match its manifest")

// Manifest describes a model folder (docs/model-contract.md).
type Manifest struct {
	Format           int                  `json:"format"`
	Name             string               `json:"name"`
	Architecture     string               `json:"architecture"`
	Height           int                  `json:"height"`
	Width            int                  `json:"width"`
	FlowAlignCorners bool                 `json:"flow_align_corners"`
	Stages           map[string]StageSpec `json:"stages"`
	Provenance       json.RawMessage      `json:"provenance,omitempty"`
}

// StageSpec is one graph of a model.
type StageSpec struct {
	File    string       `json:"file"`
	Threads int          `json:"threads,omitempty"`
	Inputs  []TensorSpec `json:"inputs"`
	Outputs []TensorSpec `json:"outputs"`
}

// TensorSpec is one named input or output of a graph.
type TensorSpec struct {
	Name  string  `json:"name"`
	Shape []int64 `json:"shape"`
	Kind  string  `json:"kind"`
}

// maxManifestBytes bounds what LoadManifest reads.
const maxManifestBytes = 1 << 20

// LoadManifest reads and checks dir/manifest.json on its own (without the
// graphs): format, sizes, stage names, tensor names and the data flow.
func LoadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestName)
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", dir, err)
	}
	if st.Size() > maxManifestBytes {
		return nil, fmt.Errorf("model %s: manifest is %d bytes, over the %d limit: %w", path, st.Size(), maxManifestBytes, ErrManifest)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	var m Manifest
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("model %s: parse: %v: %w", path, err, ErrManifest)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return &m, nil
}

// check validates the manifest on its own.
func (m *Manifest) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf(format+": %w", append(args, ErrManifest)...)
	}
	if m.Format != 1 {
		return bad("format %d is not supported (want 1)", m.Format)
	}
	if m.Height <= 0 || m.Width <= 0 || m.Height > 4096 || m.Width > 4096 {
		return bad("input size %dx%d is out of range", m.Height, m.Width)
	}
	for name := range m.Stages {
		if name != StageGarment && name != StageWarp && name != StageGen {
			return bad("unknown stage %q", name)
		}
	}
	pool := map[string]bool{TensorPerson: true, TensorGarment: true, TensorGarmentMask: true}
	for _, name := range stageOrder {
		s, ok := m.Stages[name]
		if !ok {
			if name == StageGarment {
				continue
			}
			return bad("stage %q is missing", name)
		}
		if s.File == "" || filepath.Base(s.File) != s.File || strings.HasPrefix(s.File, ".") {
			return bad("stage %s: file %q must be a plain file name inside the model folder", name, s.File)
		}
		if s.Threads < 0 || s.Threads > 64 {
			return bad("stage %s: threads %d out of range", name, s.Threads)
		}
		if len(s.Inputs) == 0 || len(s.Outputs) == 0 {
			return bad("stage %s: needs inputs and outputs", name)
		}
		for _, t := range s.Inputs {
			if err := m.checkTensor(name, "input", t); err != nil {
				return err
			}
			if !pool[t.Name] {
				return bad("stage %s: input %q is not produced by the runtime or an earlier stage", name, t.Name)
			}
		}
		for _, t := range s.Outputs {
			if err := m.checkTensor(name, "output", t); err != nil {
				return err
			}
			pool[t.Name] = true
		}
	}
	for _, need := range []string{TensorWarpedGarment, TensorWarpedMask, TensorTryOn} {
		if !pool[need] {
			return bad("no stage produces %q", need)
		}
	}
	return nil
}

func (m *Manifest) checkTensor(stage, role string, t TensorSpec) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("stage %s: %s %q: "+format+": %w", append(append([]any{stage, role, t.Name}, args...), ErrManifest)...)
	}
	if t.Name == "" {
		return bad("empty name")
	}
	if len(t.Shape) != 4 || t.Shape[0] != 1 {
		return bad("shape %v must be [1, C, H, W]", t.Shape)
	}
	for _, d := range t.Shape {
		if d <= 0 {
			return bad("shape %v has a non-positive dimension", t.Shape)
		}
	}
	var channels int64
	switch t.Kind {
	case KindImage:
		channels = 3
	case KindMask:
		channels = 1
	case KindGrid:
		channels = 2
	case KindFeature:
		return nil
	default:
		return bad("unknown kind %q", t.Kind)
	}
	if t.Shape[1] != channels || t.Shape[2] != int64(m.Height) || t.Shape[3] != int64(m.Width) {
		return bad("shape %v, want [1, %d, %d, %d] for kind %s", t.Shape, channels, m.Height, m.Width, t.Kind)
	}
	return nil
}

// checkGraph compares a stage's spec with the graph's real inputs and outputs.
func checkGraph(stage string, s StageSpec, path string) error {
	ins, outs, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return fmt.Errorf("stage %s: read graph %s: %v: %w", stage, path, err, ErrManifest)
	}
	if err := matchInfos(stage, "input", s.Inputs, ins); err != nil {
		return err
	}
	return matchInfos(stage, "output", s.Outputs, outs)
}

func matchInfos(stage, role string, specs []TensorSpec, infos []ort.InputOutputInfo) error {
	byName := make(map[string]ort.InputOutputInfo, len(infos))
	for _, info := range infos {
		byName[info.Name] = info
	}
	declared := make(map[string]bool, len(specs))
	for _, spec := range specs {
		declared[spec.Name] = true
		info, ok := byName[spec.Name]
		if !ok {
			return fmt.Errorf("stage %s: %s %q is in the manifest but not in the graph (graph has %s): %w",
				stage, role, spec.Name, infoNames(infos), ErrManifest)
		}
		if info.OrtValueType != ort.ONNXTypeTensor || info.DataType != ort.TensorElementDataTypeFloat {
			return fmt.Errorf("stage %s: %s %q is %s in the graph, want a float32 tensor: %w",
				stage, role, spec.Name, info.DataType, ErrManifest)
		}
		dims := info.Dimensions
		if len(dims) != len(spec.Shape) {
			return fmt.Errorf("stage %s: %s %q has rank %d in the graph, manifest says %v: %w",
				stage, role, spec.Name, len(dims), spec.Shape, ErrManifest)
		}
		for i, d := range dims {
			if d > 0 && d != spec.Shape[i] {
				return fmt.Errorf("stage %s: %s %q has shape %v in the graph, manifest says %v: %w",
					stage, role, spec.Name, []int64(dims), spec.Shape, ErrManifest)
			}
		}
	}
	if role == "input" {
		for _, info := range infos {
			if !declared[info.Name] {
				return fmt.Errorf("stage %s: graph input %q is not in the manifest: %w", stage, info.Name, ErrManifest)
			}
		}
	}
	return nil
}

func infoNames(infos []ort.InputOutputInfo) string {
	names := make([]string, len(infos))
	for i, info := range infos {
		names[i] = info.Name
	}
	return strings.Join(names, ", ")
}
