package zoo

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/convscope/convscope/nn"
)

// Checkpoint metadata keys (safetensors "__metadata__", all strings).
const (
	MetaModel   = "model"   // registry name, e.g. "lenet5"
	MetaInput   = "input"   // CxHxW, e.g. "1x28x28"
	MetaClasses = "classes" // number of outputs
	MetaDataset = "dataset" // e.g. "fashion-mnist"
	MetaMean    = "mean"    // per-channel normalisation, comma separated
	MetaStd     = "std"

	// Provenance, written by convscope train.
	MetaEpochs       = "epochs"        // passes over the training set
	MetaWallTime     = "wall_time"     // training time, as time.Duration prints it ("13m43s")
	MetaTestAccuracy = "test_accuracy" // on the dataset's test split, 4 decimals
)

// Preprocess is how a model wants its input: x = (pixel/255 - Mean) / Std
// per channel.
type Preprocess struct {
	Mean, Std []float32
}

// EncodeCheckpoint serialises m's weights with the metadata that rebuilds
// it (model, input, classes) plus extra (dataset, mean, std, provenance).
func EncodeCheckpoint(m *Model, extra map[string]string) ([]byte, error) {
	return nn.EncodeSafetensors(m.Net.State(), checkpointMeta(m, extra))
}

// SaveCheckpoint writes EncodeCheckpoint's bytes atomically to path.
func SaveCheckpoint(path string, m *Model, extra map[string]string) error {
	return nn.SaveSafetensors(path, m.Net.State(), checkpointMeta(m, extra))
}

func checkpointMeta(m *Model, extra map[string]string) map[string]string {
	meta := map[string]string{}
	for k, v := range extra {
		meta[k] = v
	}
	meta[MetaModel] = m.Name
	meta[MetaInput] = shapeString(m.Input)
	meta[MetaClasses] = strconv.Itoa(m.Classes)
	delete(meta, MetaVariant)
	if m.Variant != "" {
		meta[MetaVariant] = m.Variant
	}
	return meta
}

// DecodeCheckpoint rebuilds a model from safetensors bytes written by
// EncodeCheckpoint. name, if not empty, must match the stored model.
func DecodeCheckpoint(b []byte, name string) (*Model, map[string]string, error) {
	state, meta, err := nn.DecodeSafetensors(b)
	if err != nil {
		return nil, nil, err
	}
	stored := meta[MetaModel]
	switch {
	case stored == "" && name == "":
		return nil, nil, fmt.Errorf("checkpoint names no model; pass one")
	case stored == "":
		stored = name
	case name != "" && name != stored:
		return nil, nil, fmt.Errorf("checkpoint holds %s, not %s", stored, name)
	}
	var input []int
	if s := meta[MetaInput]; s != "" {
		if input, err = ParseShape(s); err != nil {
			return nil, nil, err
		}
	}
	classes := 0
	if s := meta[MetaClasses]; s != "" {
		if classes, err = strconv.Atoi(s); err != nil || classes < 1 {
			return nil, nil, fmt.Errorf("checkpoint classes %q: want a positive integer", s)
		}
	}
	if input != nil {
		if err := CheckShape(input, max(classes, 1)); err != nil {
			return nil, nil, fmt.Errorf("checkpoint metadata: %w", err)
		}
	}
	if classes > MaxClasses {
		return nil, nil, fmt.Errorf("checkpoint metadata: %d classes, want 1 to %d", classes, MaxClasses)
	}
	m, err := BuildVariant(stored, meta[MetaVariant], input, classes, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := m.Net.Load(state); err != nil {
		return nil, nil, err
	}
	return m, meta, nil
}

// PreprocessOf reads mean and std from checkpoint metadata; absent values
// mean no normalisation (mean 0, std 1) for each of c channels.
func PreprocessOf(meta map[string]string, c int) (Preprocess, error) {
	p := Preprocess{Mean: make([]float32, c), Std: make([]float32, c)}
	for i := range p.Std {
		p.Std[i] = 1
	}
	for key, dst := range map[string][]float32{MetaMean: p.Mean, MetaStd: p.Std} {
		s := meta[key]
		if s == "" {
			continue
		}
		parts := strings.Split(s, ",")
		if len(parts) != c {
			return p, fmt.Errorf("checkpoint %s %q: want %d values", key, s, c)
		}
		for i, part := range parts {
			v, err := strconv.ParseFloat(strings.TrimSpace(part), 32)
			if err != nil {
				return p, fmt.Errorf("checkpoint %s %q: %w", key, s, err)
			}
			dst[i] = float32(v)
		}
	}
	return p, nil
}

// FormatFloats joins values for PreprocessOf to read back.
func FormatFloats(v []float32) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	return strings.Join(parts, ",")
}

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, "x")
}
