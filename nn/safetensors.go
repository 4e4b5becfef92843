package nn

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Safetensors layout: an 8-byte little-endian header size, a JSON header
// {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]},
// "__metadata__": {"key": "value"}}, then the raw little-endian data.

// maxHeader bounds the JSON header so that a hostile file cannot make us
// allocate gigabytes before the first check.
const maxHeader = 100 << 20

type stEntry struct {
	Dtype   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// EncodeSafetensors serialises tensors (F32) and string metadata.
func EncodeSafetensors(tensors map[string]*Tensor, meta map[string]string) ([]byte, error) {
	names := make([]string, 0, len(tensors))
	for k := range tensors {
		names = append(names, k)
	}
	sort.Strings(names)
	header := map[string]any{}
	if len(meta) > 0 {
		header["__metadata__"] = meta
	}
	var off int64
	for _, k := range names {
		n := int64(len(tensors[k].Data)) * 4
		header[k] = stEntry{Dtype: "F32", Shape: tensors[k].Shape, Offsets: [2]int64{off, off + n}}
		off += n
	}
	h, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	buf := make([]byte, 8, 8+len(h)+int(off))
	binary.LittleEndian.PutUint64(buf, uint64(len(h)))
	buf = append(buf, h...)
	for _, k := range names {
		for _, v := range tensors[k].Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
	}
	return buf, nil
}

// DecodeSafetensors parses a safetensors file held in memory. F32, F16,
// BF16, F64, I64 and I32 tensors are read (as float32); every offset and
// shape is checked against the data, and no two tensors may share bytes.
func DecodeSafetensors(b []byte) (map[string]*Tensor, map[string]string, error) {
	raw, data, err := splitSafetensors(b)
	if err != nil {
		return nil, nil, err
	}
	var meta map[string]string
	out := map[string]*Tensor{}
	var entries []named
	for k, v := range raw {
		if k == "__metadata__" {
			if err := json.Unmarshal(v, &meta); err != nil {
				return nil, nil, fmt.Errorf("safetensors: metadata: %w", err)
			}
			continue
		}
		var e stEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w", k, err)
		}
		size, ok := dtypeSize[e.Dtype]
		if !ok {
			return nil, nil, fmt.Errorf("safetensors: tensor %q has dtype %s; convscope reads F32, F16, BF16, F64, I64 and I32", k, e.Dtype)
		}
		n := int64(1)
		for _, d := range e.Shape {
			// n*d may not overflow: no tensor holds more elements
			// than the file has bytes
			if d < 0 || d > math.MaxInt32 || (d > 0 && n > int64(len(b))/int64(d)) {
				return nil, nil, fmt.Errorf("safetensors: tensor %q has shape %v", k, e.Shape)
			}
			n *= int64(d)
		}
		lo, hi := e.Offsets[0], e.Offsets[1]
		if lo < 0 || hi < lo || hi > int64(len(data)) || hi-lo != size*n {
			return nil, nil, fmt.Errorf("safetensors: tensor %q of shape %v has offsets [%d,%d] in %d data bytes", k, e.Shape, lo, hi, len(data))
		}
		entries = append(entries, named{k, e})
	}
	// No two tensors may share bytes (as the format requires): else a
	// small file of many tensors viewing the same data would decode to
	// many copies of it. Checked before any tensor is allocated.
	sort.Slice(entries, func(i, j int) bool { return entries[i].Offsets[0] < entries[j].Offsets[0] })
	var end int64
	for _, e := range entries {
		if e.Offsets[0] == e.Offsets[1] {
			continue
		}
		if e.Offsets[0] < end {
			return nil, nil, fmt.Errorf("safetensors: tensor %q at offsets [%d,%d] overlaps another tensor's data", e.name, e.Offsets[0], e.Offsets[1])
		}
		end = e.Offsets[1]
	}
	for _, e := range entries {
		t := New(e.Shape...)
		decode(e.Dtype, data[e.Offsets[0]:e.Offsets[1]], t.Data)
		out[e.name] = t
	}
	return out, meta, nil
}

// named is a header entry with its tensor's name.
type named struct {
	name string
	stEntry
}

// dtypeSize is the byte size of each element type DecodeSafetensors reads.
var dtypeSize = map[string]int64{"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4}

// decode converts little-endian elements of dtype to float32 (integers such
// as BatchNorm's num_batches_tracked and half floats become float32 values).
func decode(dtype string, b []byte, out []float32) {
	le := binary.LittleEndian
	for i := range out {
		switch dtype {
		case "F32":
			out[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		case "F64":
			out[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		case "I64":
			out[i] = float32(int64(le.Uint64(b[8*i:])))
		case "I32":
			out[i] = float32(int32(le.Uint32(b[4*i:])))
		case "BF16":
			out[i] = math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16)
		case "F16":
			out[i] = HalfToFloat(le.Uint16(b[2*i:]))
		}
	}
}

// HalfToFloat converts an IEEE 754 binary16 value (float16) to float32.
func HalfToFloat(h uint16) float32 {
	sign := float32(1)
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(h>>10)&0x1f, float64(h&0x3ff)
	switch exp {
	case 0:
		return sign * float32(math.Ldexp(frac, -24))
	case 0x1f:
		if frac != 0 {
			return float32(math.NaN())
		}
		return sign * float32(math.Inf(1))
	}
	return sign * float32(math.Ldexp(1+frac/1024, exp-15))
}

// splitSafetensors parses the header and returns its entries and the data.
func splitSafetensors(b []byte) (map[string]json.RawMessage, []byte, error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("safetensors: %d bytes, too short for a header", len(b))
	}
	hl := binary.LittleEndian.Uint64(b)
	if hl > maxHeader || hl > uint64(len(b)-8) {
		return nil, nil, fmt.Errorf("safetensors: header of %d bytes in a %d-byte file", hl, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+hl], &raw); err != nil {
		return nil, nil, fmt.Errorf("safetensors: header: %w", err)
	}
	return raw, b[8+hl:], nil
}

// SafetensorsMetadata returns only the "__metadata__" strings of a file,
// without decoding any tensor.
func SafetensorsMetadata(b []byte) (map[string]string, error) {
	raw, _, err := splitSafetensors(b)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{}
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, fmt.Errorf("safetensors: metadata: %w", err)
		}
	}
	return meta, nil
}

// LoadSafetensors reads a safetensors file from disk.
func LoadSafetensors(path string) (map[string]*Tensor, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	t, m, err := DecodeSafetensors(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, m, nil
}

// tempSuffix marks SaveSafetensors' temporary files: path + ".tmp" + the
// random digits os.CreateTemp adds.
const tempSuffix = ".tmp"

// StaleTempAge is how old a temporary file of SaveSafetensors must be for
// RemoveStaleTemps to take it for the leftover of an interrupted write.
const StaleTempAge = time.Minute

// RemoveStaleTemps removes the temporary files that interrupted
// SaveSafetensors calls for path left beside it: only regular files named
// path + ".tmp" + digits and older than StaleTempAge (a write under way in
// another process is younger). Errors are ignored: it only tidies.
func RemoveStaleTemps(path string) {
	dir, base := filepath.Dir(path), filepath.Base(path)+tempSuffix
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		digits, ok := strings.CutPrefix(name, base)
		if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > StaleTempAge {
			os.Remove(filepath.Join(dir, name))
		}
	}
}

// SaveSafetensors writes tensors to path atomically: a temporary file in the
// same directory, then a rename, so a crash never leaves half a checkpoint.
// The temporary files of earlier writes that were interrupted are removed
// first (RemoveStaleTemps).
func SaveSafetensors(path string, tensors map[string]*Tensor, meta map[string]string) error {
	b, err := EncodeSafetensors(tensors, meta)
	if err != nil {
		return err
	}
	RemoveStaleTemps(path)
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+tempSuffix+"*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op after a successful rename
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes it 0600
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
