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
	obj, size, err := loadTorch(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The tensors may hold at most as many elements as the file has
	// bytes: storages are shared (tied weights), but many tensors viewing
	// one storage would otherwise copy it many times over.
	left := size
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
		t, err := fromTorch(pt, &left)
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
// into a contiguous float32 tensor. Its size, strides and offset are checked
// against its storage first: no element may lie outside it, and it may not
// have more elements than its storage holds (a stride-0 broadcast of a huge
// size would otherwise allocate gigabytes from a tiny file), nor more than
// *left, from which its elements are then taken.
func fromTorch(pt *pytorch.Tensor, left *int64) (*nn.Tensor, error) {
	var at func(i int) float32
	var held int
	switch s := pt.Source.(type) {
	case *pytorch.FloatStorage:
		at, held = func(i int) float32 { return s.Data[i] }, len(s.Data)
	case *pytorch.HalfStorage:
		at, held = func(i int) float32 { return s.Data[i] }, len(s.Data)
	case *pytorch.BFloat16Storage:
		at, held = func(i int) float32 { return s.Data[i] }, len(s.Data)
	case *pytorch.DoubleStorage:
		at, held = func(i int) float32 { return float32(s.Data[i]) }, len(s.Data)
	case *pytorch.LongStorage:
		at, held = func(i int) float32 { return float32(s.Data[i]) }, len(s.Data)
	case *pytorch.IntStorage:
		at, held = func(i int) float32 { return float32(s.Data[i]) }, len(s.Data)
	default:
		return nil, fmt.Errorf("storage %T is not supported", pt.Source)
	}
	if err := checkView(pt.Size, pt.Stride, pt.StorageOffset, held); err != nil {
		return nil, err
	}
	n := int64(1)
	for _, d := range pt.Size {
		n *= int64(d) // checkView: at most held elements
	}
	if n > *left {
		return nil, fmt.Errorf("%d elements more than the file's remaining %d bytes can hold (tensors sharing one storage many times?)", n, *left)
	}
	*left -= n
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

// checkView checks a tensor's size, strides and storage offset against a
// storage of held elements.
func checkView(size, stride []int, offset, held int) error {
	bad := func(why string) error {
		return fmt.Errorf("size %v, strides %v and offset %d in a storage of %d elements: %s", size, stride, offset, held, why)
	}
	if len(size) != len(stride) {
		return bad("as many strides as dimensions wanted")
	}
	if offset < 0 || offset > held {
		return bad("offset out of range")
	}
	empty := false
	for d, s := range size {
		if s < 0 || stride[d] < 0 {
			return bad("negative size or stride")
		}
		empty = empty || s == 0
	}
	if empty {
		return nil // no element is read
	}
	n, last := 1, offset
	for d, s := range size {
		if n > held/s {
			return bad("more elements than the storage holds")
		}
		n *= s
		if stride[d] > held {
			return bad("stride out of range")
		}
		if last += (s - 1) * stride[d]; last >= held { // each term <= held^2: no overflow
			return bad("elements beyond the end of the storage")
		}
	}
	if last >= held {
		return bad("elements beyond the end of the storage")
	}
	return nil
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
