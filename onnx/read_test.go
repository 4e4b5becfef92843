package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/convscope/convscope/onnx/onnxpb"
)

// The suite's Conv2d: opset 6, a 4x3x3x2 weight and a bias, as PyTorch
// exported them (raw_data), read to the values python3-onnx gives.
func TestReadConv2d(t *testing.T) {
	m, err := Read("testdata/conv2d.onnx")
	if err != nil {
		t.Fatal(err)
	}
	w, b := m.Weights["1"], m.Weights["2"]
	if m.Opset != 6 || w == nil || b == nil || len(w.Data) != 72 || len(b.Data) != 4 || w.Shape[3] != 2 {
		t.Fatalf("opset %d, weights %v", m.Opset, m.Weights)
	}
	if ops := m.Graph().GetNode(); len(ops) != 1 || ops[0].GetOpType() != "Conv" {
		t.Fatalf("nodes %v", ops)
	}
	if _, err := Read("testdata/conv_with_strides_padding.onnx"); err != nil {
		t.Fatal(err)
	}
}

// hostile are files whose declared sizes, locations or types are wrong.
func hostile(t testing.TB) map[string][]byte {
	valid, err := os.ReadFile("testdata/conv2d.onnx")
	if err != nil {
		t.Fatal(err)
	}
	with := func(edit func(*onnxpb.ModelProto)) []byte {
		var m onnxpb.ModelProto
		if err := proto.Unmarshal(valid, &m); err != nil {
			t.Fatal(err)
		}
		edit(&m)
		b, err := proto.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	weight := func(m *onnxpb.ModelProto) *onnxpb.TensorProto { return m.Graph.Initializer[0] }
	return map[string][]byte{
		"empty":          {},
		"garbage":        []byte("this is not a protobuf message at all, not even close"),
		"truncated":      valid[:len(valid)/2],
		"huge dims":      with(func(m *onnxpb.ModelProto) { weight(m).Dims = []int64{1 << 30, 1 << 30} }),
		"negative dims":  with(func(m *onnxpb.ModelProto) { weight(m).Dims = []int64{-4, 3, 3, 2} }),
		"short data":     with(func(m *onnxpb.ModelProto) { weight(m).RawData = weight(m).RawData[:100] }),
		"odd bytes":      with(func(m *onnxpb.ModelProto) { weight(m).RawData = weight(m).RawData[:101] }),
		"two fields":     with(func(m *onnxpb.ModelProto) { weight(m).FloatData = make([]float32, 72) }),
		"external data":  with(func(m *onnxpb.ModelProto) { weight(m).DataLocation = onnxpb.TensorProto_EXTERNAL.Enum() }),
		"string tensor":  with(func(m *onnxpb.ModelProto) { weight(m).DataType = proto.Int32(int32(onnxpb.TensorProto_STRING)) }),
		"no graph":       with(func(m *onnxpb.ModelProto) { m.Graph = nil }),
		"no opset":       with(func(m *onnxpb.ModelProto) { m.OpsetImport = nil }),
		"duplicate name": with(func(m *onnxpb.ModelProto) { m.Graph.Initializer = append(m.Graph.Initializer, m.Graph.Initializer[0]) }),
	}
}

func TestHostileFiles(t *testing.T) {
	want := map[string]string{
		"empty": "empty file", "garbage": "not an ONNX model", "truncated": "not an ONNX model",
		"huge dims": "more than 268435456 elements", "negative dims": "a negative one", "short data": "holds 25",
		"odd bytes": "101 bytes of FLOAT data", "two fields": "holds", "external data": "external file",
		"string tensor": "of type STRING", "no graph": "without a graph", "no opset": "no version of the default operator set",
		"duplicate name": "appears twice",
	}
	dir := t.TempDir()
	for name, b := range hostile(t) {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".onnx")
		os.WriteFile(p, b, 0o644)
		_, err := Read(p)
		if err == nil || !strings.Contains(err.Error(), want[name]) || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line naming the file and %q", name, err, want[name])
		}
	}
}

// suite is Debian's libonnx-testdata: the ONNX project's backend cases.
const suite = "/usr/share/libonnx-testdata/data"

// Every model of the ONNX backend suite reads, or is refused for a type
// or feature convscope does not read; every input and output tensor of
// its test data converts to as many values as its shape holds.
func TestReadBackendSuite(t *testing.T) {
	models, _ := filepath.Glob(filepath.Join(suite, "*", "*", "model.onnx"))
	if len(models) == 0 {
		t.Skipf("no %s (Debian's libonnx-testdata)", suite)
	}
	read, refused := 0, map[string]int{}
	for _, path := range models {
		if _, err := Read(path); err != nil {
			reason := err.Error()
			switch {
			case strings.Contains(reason, "is of type"), strings.Contains(reason, "external file"), strings.Contains(reason, "sparse initializers"),
				strings.Contains(reason, "no version of the default operator set"): // ai.onnx.preview.training only
				refused[reason[strings.LastIndex(reason, ": ")+2:]]++
			default:
				t.Errorf("%v", err)
			}
			continue
		}
		read++
	}
	tensors, converted := 0, 0
	pbs, _ := filepath.Glob(filepath.Join(suite, "*", "*", "test_data_set_*", "*.pb"))
	for _, path := range pbs {
		b, _ := os.ReadFile(path)
		var tp onnxpb.TensorProto
		if proto.Unmarshal(b, &tp) != nil || len(tp.GetDims()) == 0 && tp.GetDataType() == 0 {
			continue // a sequence or a map, not a tensor
		}
		tensors++
		if isFloat(tp.GetDataType()) {
			x, err := Tensor(&tp)
			if err == nil && len(x.Data) != numel(tp.GetDims()) {
				t.Errorf("%s: %d values for %v", path, len(x.Data), tp.GetDims())
			}
			if err == nil {
				converted++
			}
			continue
		}
		v, err := Ints(&tp)
		if err == nil && len(v) != numel(tp.GetDims()) {
			t.Errorf("%s: %d values for %v", path, len(v), tp.GetDims())
		}
		if err == nil {
			converted++
		}
	}
	t.Logf("%d of %d models read; refused: %v; %d of %d test tensors converted", read, len(models), refused, converted, tensors)
	if read < len(models)*9/10 {
		t.Errorf("only %d of %d models read", read, len(models))
	}
}

func numel(dims []int64) int {
	n := 1
	for _, d := range dims {
		n *= int(d)
	}
	return n
}
