package nn

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/convscope/convscope/internal/bounded"
)

// fuzzAllocSlack is what one decode may allocate beyond fuzzAllocPerByte
// bytes per input byte: the maps, the JSON decoder's state, the fuzzing
// engine's own small allocations between two MemStats readings.
const (
	fuzzAllocSlack   = 32 << 20
	fuzzAllocPerByte = 64
)

// decodeBounded runs DecodeSafetensors on b and fails t if it takes longer
// than 10 s or allocates more than the bound for len(b) bytes.
func decodeBounded(t *testing.T, b []byte) (map[string]*Tensor, map[string]string, error) {
	t.Helper()
	var tensors map[string]*Tensor
	var meta map[string]string
	var err error
	bounded.Run(t, fmt.Sprintf("DecodeSafetensors of %d bytes", len(b)), uint64(fuzzAllocSlack+fuzzAllocPerByte*len(b)), func() {
		tensors, meta, err = DecodeSafetensors(b)
	})
	return tensors, meta, err
}

// stHeader is a safetensors file with header h and n zero data bytes.
func stHeader(h string, n int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(b, h...), make([]byte, n)...)
}

// FuzzSafetensors feeds arbitrary bytes to DecodeSafetensors: it must
// return an error or tensors, never panic, hang or allocate much more than
// the input's size; what it accepts must survive EncodeSafetensors and a
// second decode bit for bit.
func FuzzSafetensors(f *testing.F) {
	good, err := EncodeSafetensors(map[string]*Tensor{
		"a.weight": FromData([]float32{1, -2, 3.5, 0}, 2, 2),
		"b":        FromData([]float32{7}, 1),
	}, map[string]string{"model": "m"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	// The hostile files of TestSafetensorsRejectsHostileFiles.
	f.Add([]byte{})
	f.Add(binary.LittleEndian.AppendUint64(nil, 1<<62))
	f.Add(good[:len(good)-3])
	f.Add(stHeader("{", 16))
	f.Add(stHeader(`{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, 16))
	f.Add(stHeader(`{"w":{"dtype":"F16","shape":[3],"data_offsets":[0,4]}}`, 16))
	f.Add(stHeader(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}`, 16))
	f.Add(stHeader(`{"w":{"dtype":"F32","shape":[5],"data_offsets":[0,16]}}`, 16))
	f.Add(stHeader(`{"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}`, 16))
	f.Add(append(binary.LittleEndian.AppendUint64(nil, 64), `{"w":{}}`...))
	f.Add(stHeader(`{"w":{"dtype":"F32","shape":[1073741824,1073741824,16],"data_offsets":[0,0]}}`, 16))
	// Every dtype, and metadata that is not strings.
	f.Add(stHeader(`{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]},`+
		`"i":{"dtype":"I64","shape":[],"data_offsets":[8,16]},"d":{"dtype":"F64","shape":[1],"data_offsets":[16,24]},`+
		`"j":{"dtype":"I32","shape":[1,1],"data_offsets":[24,28]}}`, 28))
	f.Add(stHeader(`{"__metadata__":{"a":1},"w":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, 0))
	// Many tensors viewing the same bytes: each would be a copy of all
	// the data (an amplification of the file's size).
	var many strings.Builder
	many.WriteString("{")
	for i := range 2000 {
		if i > 0 {
			many.WriteString(",")
		}
		fmt.Fprintf(&many, `"w%d":{"dtype":"F16","shape":[32768],"data_offsets":[0,65536]}`, i)
	}
	many.WriteString("}")
	f.Add(stHeader(many.String(), 65536))

	f.Fuzz(func(t *testing.T, b []byte) {
		tensors, meta, err := decodeBounded(t, b)
		if err != nil && bytes.Equal(b, good) {
			t.Fatalf("the valid file: %v", err)
		}
		if err != nil {
			if tensors != nil || meta != nil {
				t.Fatalf("error %v with results", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		if bytes.Equal(b, good) {
			w := tensors["a.weight"]
			if len(tensors) != 2 || meta["model"] != "m" || w == nil || !SameShape(w.Shape, []int{2, 2}) || w.Data[2] != 3.5 || tensors["b"].Data[0] != 7 {
				t.Fatalf("the valid file decodes to %v %v", tensors, meta)
			}
		}
		again, err := EncodeSafetensors(tensors, meta)
		if err != nil {
			t.Fatalf("decoded tensors do not encode: %v", err)
		}
		tensors2, meta2, err := DecodeSafetensors(again)
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		if len(tensors2) != len(tensors) || len(meta2) != len(meta) {
			t.Fatalf("round trip: %d tensors %d metadata, then %d and %d", len(tensors), len(meta), len(tensors2), len(meta2))
		}
		for k, v := range meta {
			if meta2[k] != v {
				t.Fatalf("metadata %q: %q, then %q", k, v, meta2[k])
			}
		}
		for k, a := range tensors {
			c := tensors2[k]
			if c == nil || !SameShape(a.Shape, c.Shape) || len(a.Data) != len(c.Data) {
				t.Fatalf("tensor %q: %v, then %v", k, a.Shape, c)
			}
			for i := range a.Data {
				if math.Float32bits(a.Data[i]) != math.Float32bits(c.Data[i]) {
					t.Fatalf("tensor %q element %d: %g, then %g", k, i, a.Data[i], c.Data[i])
				}
			}
		}
	})
}
