// Package onnx reads ONNX model files (the ONNX project's protobuf
// format, package onnxpb) safely: every size a file declares is checked
// against what it holds and against limits before anything of that size is
// allocated, and its weights (initializers) become nn tensors. Running the
// graph is the job of the code that builds a model from it.
package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/onnx/onnxpb"
)

// Limits on what a file may hold, checked before allocating.
const (
	// MaxFileBytes bounds a file (VGG-19 exported is 548 MB).
	MaxFileBytes = 1 << 30
	// MaxTensorElements bounds one tensor (as zoo.MaxTensorElements).
	MaxTensorElements = 1 << 28
	// MaxNodes bounds a graph's nodes (ResNet-152 exported has about 500).
	MaxNodes = 1 << 16
)

// Model is an ONNX file read and checked.
type Model struct {
	// Proto is the file's message: the graph, its nodes and attributes.
	Proto *onnxpb.ModelProto
	// Opset is the version of the default operator set ("" or
	// "ai.onnx") the graph is written for.
	Opset int64
	// Weights are the initializers of a floating-point type, as float32.
	Weights map[string]*nn.Tensor
	// Ints are the initializers of an integer or boolean type (shapes of
	// Reshape, pads, axes).
	Ints map[string][]int64
}

// Graph is the model's graph.
func (m *Model) Graph() *onnxpb.GraphProto { return m.Proto.GetGraph() }

// Read reads and checks an ONNX file; its errors name the file.
func Read(path string) (*Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxFileBytes {
		return nil, fmt.Errorf("%s: %d bytes; convscope reads ONNX files of at most %d", path, st.Size(), MaxFileBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Decode checks and converts an ONNX file's bytes.
func Decode(b []byte) (*Model, error) {
	if len(b) == 0 {
		return nil, errors.New("empty file, not an ONNX model")
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("%d bytes; at most %d", len(b), MaxFileBytes)
	}
	var mp onnxpb.ModelProto
	// The decoder bounds every length by the bytes left and nesting by
	// its recursion limit; unknown fields are dropped.
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, &mp); err != nil {
		return nil, fmt.Errorf("not an ONNX model: %w", err)
	}
	g := mp.GetGraph()
	if g == nil {
		return nil, errors.New("an ONNX file without a graph")
	}
	if len(g.GetNode()) > MaxNodes {
		return nil, fmt.Errorf("a graph of %d nodes; at most %d", len(g.GetNode()), MaxNodes)
	}
	m := &Model{Proto: &mp, Opset: -1, Weights: map[string]*nn.Tensor{}, Ints: map[string][]int64{}}
	for _, o := range mp.GetOpsetImport() {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			m.Opset = o.GetVersion()
		}
	}
	if m.Opset < 0 {
		return nil, errors.New("the model imports no version of the default operator set (ai.onnx)")
	}
	if len(g.GetSparseInitializer()) > 0 {
		return nil, errors.New("sparse initializers are not supported")
	}
	for _, t := range g.GetInitializer() {
		name := t.GetName()
		if _, dup := m.Weights[name]; dup {
			return nil, fmt.Errorf("initializer %q appears twice", name)
		}
		if _, dup := m.Ints[name]; dup {
			return nil, fmt.Errorf("initializer %q appears twice", name)
		}
		if isFloat(t.GetDataType()) {
			x, err := Tensor(t)
			if err != nil {
				return nil, err
			}
			m.Weights[name] = x
			continue
		}
		v, err := Ints(t)
		if err != nil {
			return nil, err
		}
		m.Ints[name] = v
	}
	return m, nil
}

func isFloat(dt int32) bool {
	switch onnxpb.TensorProto_DataType(dt) {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_BFLOAT16:
		return true
	}
	return false
}

// elemSize is the bytes per element of a type in raw_data, 0 for a type
// convscope does not read.
func elemSize(dt onnxpb.TensorProto_DataType) int {
	switch dt {
	case onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64:
		return 8
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_INT32, onnxpb.TensorProto_UINT32:
		return 4
	case onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16, onnxpb.TensorProto_INT16, onnxpb.TensorProto_UINT16:
		return 2
	case onnxpb.TensorProto_INT8, onnxpb.TensorProto_UINT8, onnxpb.TensorProto_BOOL:
		return 1
	}
	return 0
}

// shapeOf checks a tensor's dimensions and where its data is, and returns
// its shape and element count.
func shapeOf(t *onnxpb.TensorProto) ([]int, int, error) {
	name := t.GetName()
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return nil, 0, fmt.Errorf("tensor %q keeps its data in an external file; export the model with its weights inside", name)
	}
	if t.GetSegment() != nil {
		return nil, 0, fmt.Errorf("tensor %q is a segment of a larger one; not supported", name)
	}
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	if elemSize(dt) == 0 {
		return nil, 0, fmt.Errorf("tensor %q is of type %s; convscope reads float, float16, bfloat16, double and integer tensors", name, dt)
	}
	shape := make([]int, len(t.GetDims()))
	n := 1
	for i, d := range t.GetDims() {
		if d < 0 || d > MaxTensorElements || (d > 0 && n > MaxTensorElements/int(d)) {
			return nil, 0, fmt.Errorf("tensor %q declares dimensions %v: more than %d elements, or a negative one", name, t.GetDims(), MaxTensorElements)
		}
		shape[i] = int(d)
		n *= int(d)
	}
	// The data must be exactly the declared elements, in one field.
	have, fields := 0, 0
	count := func(k int) {
		if k > 0 {
			have, fields = k, fields+1
		}
	}
	if raw := t.GetRawData(); len(raw) > 0 {
		if len(raw)%elemSize(dt) != 0 {
			return nil, 0, fmt.Errorf("tensor %q has %d bytes of %s data", name, len(raw), dt)
		}
		count(len(raw) / elemSize(dt))
	}
	count(len(t.GetFloatData()))
	count(len(t.GetDoubleData()))
	count(len(t.GetInt32Data()))
	count(len(t.GetInt64Data()))
	count(len(t.GetUint64Data()))
	if fields > 1 || have != n {
		return nil, 0, fmt.Errorf("tensor %q declares %v (%d elements) and holds %d", name, t.GetDims(), n, have)
	}
	return shape, n, nil
}

// Tensor converts a floating-point tensor (float, float16, bfloat16,
// double) to float32.
func Tensor(t *onnxpb.TensorProto) (*nn.Tensor, error) {
	shape, n, err := shapeOf(t)
	if err != nil {
		return nil, err
	}
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	if !isFloat(t.GetDataType()) {
		return nil, fmt.Errorf("tensor %q is of type %s, not floating point", t.GetName(), dt)
	}
	out := nn.FromData(make([]float32, n), shape...)
	raw := t.GetRawData()
	for i := range n {
		var v float32
		switch {
		case dt == onnxpb.TensorProto_FLOAT && len(raw) > 0:
			v = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		case dt == onnxpb.TensorProto_FLOAT:
			v = t.GetFloatData()[i]
		case dt == onnxpb.TensorProto_DOUBLE && len(raw) > 0:
			v = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		case dt == onnxpb.TensorProto_DOUBLE:
			v = float32(t.GetDoubleData()[i])
		default: // 16-bit floats, in raw_data or the low half of int32_data
			var bits uint16
			if len(raw) > 0 {
				bits = binary.LittleEndian.Uint16(raw[2*i:])
			} else {
				bits = uint16(t.GetInt32Data()[i])
			}
			if dt == onnxpb.TensorProto_BFLOAT16 {
				v = math.Float32frombits(uint32(bits) << 16)
			} else {
				v = nn.HalfToFloat(bits)
			}
		}
		out.Data[i] = v
	}
	return out, nil
}

// Ints converts an integer or boolean tensor to int64 values.
func Ints(t *onnxpb.TensorProto) ([]int64, error) {
	_, n, err := shapeOf(t)
	if err != nil {
		return nil, err
	}
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	if isFloat(t.GetDataType()) {
		return nil, fmt.Errorf("tensor %q is of type %s, not integer", t.GetName(), dt)
	}
	raw, size := t.GetRawData(), elemSize(dt)
	out := make([]int64, n)
	for i := range n {
		switch {
		case len(raw) == 0 && len(t.GetInt64Data()) > 0:
			out[i] = t.GetInt64Data()[i]
		case len(raw) == 0 && len(t.GetUint64Data()) > 0:
			out[i] = int64(t.GetUint64Data()[i])
		case len(raw) == 0:
			out[i] = int64(t.GetInt32Data()[i])
		case size == 8:
			out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		case size == 4 && dt == onnxpb.TensorProto_INT32:
			out[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
		case size == 4:
			out[i] = int64(binary.LittleEndian.Uint32(raw[4*i:]))
		case size == 2 && dt == onnxpb.TensorProto_INT16:
			out[i] = int64(int16(binary.LittleEndian.Uint16(raw[2*i:])))
		case size == 2:
			out[i] = int64(binary.LittleEndian.Uint16(raw[2*i:]))
		case dt == onnxpb.TensorProto_INT8:
			out[i] = int64(int8(raw[i]))
		default:
			out[i] = int64(raw[i])
		}
	}
	return out, nil
}
