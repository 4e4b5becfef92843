package zoo

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/convscope/convscope/nn"
)

// ReadStateDict reads a PyTorch state_dict from a .safetensors file or a
// torch.save'd .pth/.pt file (zip + pickle, as torchvision's checkpoints),
// keyed by parameter name. A .pth holding a whole checkpoint dict with a
// "state_dict" or "model" entry is unwrapped.
func ReadStateDict(path string) (map[string]*nn.Tensor, error) {
	if strings.EqualFold(filepath.Ext(path), ".safetensors") {
		t, _, err := nn.LoadSafetensors(path)
		return t, err
	}
	obj, err := pytorch.Load(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PyTorch checkpoint: %w", path, err)
	}
	entries, err := dictEntries(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]*nn.Tensor{}
	for _, e := range entries {
		name, ok := e.Key.(string)
		if !ok {
			return nil, fmt.Errorf("%s: state_dict key %v is not a string", path, e.Key)
		}
		pt, ok := e.Value.(*pytorch.Tensor)
		if !ok {
			return nil, fmt.Errorf("%s: %s is a %T, not a tensor", path, name, e.Value)
		}
		t, err := fromTorch(pt)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, name, err)
		}
		out[name] = t
	}
	return out, nil
}

// dictEntries lists the key/value pairs of an unpickled OrderedDict or
// dict; a dict with a "state_dict" or "model" entry (a training checkpoint)
// is unwrapped first.
func dictEntries(obj any) ([]types.DictEntry, error) {
	switch d := obj.(type) {
	case *types.OrderedDict:
		var out []types.DictEntry
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			out = append(out, types.DictEntry{Key: entry.Key, Value: entry.Value})
		}
		return out, nil
	case *types.Dict:
		for _, key := range []string{"state_dict", "model"} {
			if v, ok := d.Get(key); ok {
				return dictEntries(v)
			}
		}
		return *d, nil
	}
	return nil, fmt.Errorf("holds a %T, not a state_dict", obj)
}

// fromTorch copies a pickled tensor (any stride, offset and numeric storage)
// into a contiguous float32 tensor.
func fromTorch(pt *pytorch.Tensor) (*nn.Tensor, error) {
	var at func(i int) float32
	switch s := pt.Source.(type) {
	case *pytorch.FloatStorage:
		at = func(i int) float32 { return s.Data[i] }
	case *pytorch.HalfStorage:
		at = func(i int) float32 { return s.Data[i] }
	case *pytorch.BFloat16Storage:
		at = func(i int) float32 { return s.Data[i] }
	case *pytorch.DoubleStorage:
		at = func(i int) float32 { return float32(s.Data[i]) }
	case *pytorch.LongStorage:
		at = func(i int) float32 { return float32(s.Data[i]) }
	case *pytorch.IntStorage:
		at = func(i int) float32 { return float32(s.Data[i]) }
	default:
		return nil, fmt.Errorf("storage %T is not supported", pt.Source)
	}
	t := nn.New(pt.Size...)
	idx := make([]int, len(pt.Size))
	for i := range t.Data {
		off := pt.StorageOffset
		for d, v := range idx {
			off += v * pt.Stride[d]
		}
		t.Data[i] = at(off)
		for d := len(idx) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < pt.Size[d] {
				break
			}
			idx[d] = 0
		}
	}
	return t, nil
}

// LoadWeights reads a state_dict file into m; every missing, unexpected or
// wrong-shaped key is listed in the error.
func LoadWeights(m *Model, path string) error {
	state, err := ReadStateDict(path)
	if err != nil {
		return err
	}
	if err := m.Net.Load(state); err != nil {
		return fmt.Errorf("%s into %s: %w", path, m.Name, err)
	}
	return nil
}
