package onnx_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convscope/convscope/deconv"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/onnx"
	"github.com/convscope/convscope/zoo"
)

// relDiff is max|a-b| over max|b|.
func relDiff(a, b []float32) float64 {
	var diff, peak float64
	for i := range b {
		diff = max(diff, math.Abs(float64(a[i])-float64(b[i])))
		peak = max(peak, math.Abs(float64(b[i])))
	}
	return diff / peak
}

// Small CNNs that are not in the zoo, exported by torch.onnx
// (tools/parity/onnx_export.py), run as nn layers and blocks: every layer's
// output and the logits as PyTorch's, and the gradient and the deconvnet
// projection of the top class, within 1e-5 of their largest magnitude.
// branchy has a residual block with an identity shortcut, one with a 1x1
// convolution shortcut, three branches concatenated and a SiLU written as
// x * sigmoid(x); convnext is torchvision's ConvNeXt at two small stages
// (LayerNormalization, Transpose, GELU written with Erf, layer scale), GELU
// counted as a rectifier by the deconvnet, LayerNorm by its derivative.
// graphy, densenet and mobilenetv3 hold what only an nn.Graph carries
// (DenseNet's reuse, squeeze-and-excitation products, a skip over several
// modules): their convolutions inside the graphs are compared by name, and
// for graphy units inside the graph are projected too.
func TestChainMatchesPyTorch(t *testing.T) {
	fix, _, err := nn.LoadSafetensors("testdata/chain.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		layers string
	}{
		{"chain", "features.0 features.2 features.3 features.4 features.5 features.6 classifier.0 classifier.2 classifier.3 classifier.4"},
		{"ops", "body.0 body.1 body.2 body.3 body.4 body.5 body.6 body.7 body.8 body.9 body.10 body.11 body.12 body.13"},
		{"branchy", "stem act block incept silu down pool flat fc"},
		{"convnext", ""}, // torchvision's ConvNeXt: its stages open to dozens of layers
		{"graphy", "stem Relu graph Relu_1 GlobalAveragePool Flatten fc"},
		{"densenet", ""},
		{"mobilenetv3", ""},
	} {
		m, err := onnx.Read("testdata/" + c.name + ".onnx")
		if err != nil {
			t.Fatal(err)
		}
		net, input, classes, err := m.Chain()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var names []string
		for _, l := range net.Layers {
			names = append(names, l.Name())
		}
		if got := strings.Join(names, " "); c.layers != "" && got != c.layers || input[0] != 3 || input[1] != 32 || classes != len(fix[c.name+"/logits"].Data) {
			t.Errorf("%s: layers %q, input %v, %d classes", c.name, got, input, classes)
		}
		x := fix[c.name+"/input"]
		tr, err := net.Forward(x, &nn.Context{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := relDiff(tr.Output().Data, fix[c.name+"/logits"].Data); d > 1e-5 {
			t.Errorf("%s: logits differ by %.2g of their largest", c.name, d)
		}
		// Layer by layer: each carries its PyTorch module's name and output
		// (the folded batch norm's is its convolution's).
		compared := 0
		for _, st := range tr.Steps {
			module := st.Layer.Name()
			if c.name == "chain" && module == "features.0" {
				module = "features.1" // torch.onnx folded the batch norm into the convolution
			}
			want := fix[c.name+"/act/"+module]
			if want == nil || c.layers == "" { // ConvNeXt's modules span several layers each
				continue
			}
			compared++
			if len(want.Data) != len(st.Out.Data) {
				t.Errorf("%s %s: %d values, PyTorch %d", c.name, st.Layer.Name(), len(st.Out.Data), len(want.Data))
			} else if d := relDiff(st.Out.Data, want.Data); d > 1e-5 {
				t.Errorf("%s %s: output differs by %.2g of its largest", c.name, st.Layer.Name(), d)
			}
		}
		if c.layers != "" && compared < len(tr.Steps)-1 && c.name != "graphy" {
			t.Errorf("%s: %d of %d layers compared with PyTorch's modules", c.name, compared, len(tr.Steps))
		}
		// Inside the graphs: every convolution, found by its module's name.
		if c.name == "graphy" || c.name == "densenet" {
			inner := 0
			for key, want := range fix {
				module, ok := strings.CutPrefix(key, c.name+"/act/")
				if !ok {
					continue
				}
				_, st, found := tr.Locate(module)
				if !found {
					t.Errorf("%s: no layer %s", c.name, module)
					continue
				}
				inner++
				if d := relDiff(st.Out.Data, want.Data); len(want.Data) != len(st.Out.Data) || d > 1e-5 {
					t.Errorf("%s %s: output differs by %.2g of its largest", c.name, module, d)
				}
			}
			if inner < 5 {
				t.Errorf("%s: %d convolutions compared", c.name, inner)
			}
		}
		if c.name == "ops" {
			continue
		}
		k := nn.ArgMax(fix[c.name+"/logits"].Data)
		for _, method := range []string{"gradient", "deconvnet"} {
			if fix[c.name+"/"+method] == nil {
				continue
			}
			r, err := deconv.Explain(context.Background(), deconv.Model{Net: net}, x, tr, method, deconv.Goal{Class: k}, deconv.Options{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d := relDiff(r.Map.Data, fix[c.name+"/"+method].Data); d > 1e-5 {
				t.Errorf("%s: %s of class %d differs from PyTorch by %.2g of its largest", c.name, method, k, d)
			} else {
				t.Logf("%s: %s of class %d within %.2g of PyTorch's largest", c.name, method, k, d)
			}
		}
		// Units inside the graph: a convolution's and the gate's product.
		for module, layer := range map[string]string{"dense.1.conv": "dense.1.conv", "se": "se.mul"} {
			at := fix[c.name+"/unit/"+module+"/at"]
			if c.name != "graphy" {
				break
			}
			if at == nil {
				t.Fatalf("no fixture for a unit of %s", module)
			}
			for _, method := range []string{"gradient", "deconvnet"} {
				goal := deconv.Goal{Layer: layer, Channel: int(at.Data[0]), At: &deconv.Pos{Y: int(at.Data[1]), X: int(at.Data[2])}}
				r, err := deconv.Explain(context.Background(), deconv.Model{Net: net}, x, tr, method, goal, deconv.Options{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if d := relDiff(r.Map.Data, fix[c.name+"/unit/"+module+"/"+method].Data); d > 1e-5 {
					t.Errorf("%s: %s of a unit of %s differs from PyTorch by %.2g of its largest", c.name, method, layer, d)
				}
			}
		}
	}
}

// A graph that is not a chain, or an operator convscope has no layer for,
// is refused naming the node.
func TestChainRefusals(t *testing.T) {
	m, err := onnx.Read("testdata/conv_with_strides_padding.onnx") // its weight is a second input
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := m.Chain(); err == nil || !strings.Contains(err.Error(), "several inputs") {
		t.Errorf("a graph with two inputs: %v", err)
	}
	m, _ = onnx.Read("testdata/chain.onnx")
	m.Graph().Node[1].OpType = proto("Erf")
	if _, _, _, err := m.Chain(); err == nil || !strings.Contains(err.Error(), "node /features/features.2/Relu (Erf): operator Erf is not supported") {
		t.Errorf("an unsupported operator: %v", err)
	}
	// The residual and Inception blocks of branchy are where they belong.
	m, _ = onnx.Read("testdata/branchy.onnx")
	net, _, _, err := m.Chain()
	if err != nil {
		t.Fatal(err)
	}
	block, ok1 := net.Layers[2].(*nn.Residual)
	down, ok2 := net.Layers[5].(*nn.Residual)
	incept, ok3 := net.Layers[3].(*nn.Concat)
	if !ok1 || !ok2 || !ok3 || block.Shortcut != nil || block.After == nil || down.Shortcut == nil || len(incept.Branches) != 3 ||
		incept.Branches[1].Name() != "incept.branch2" || len(incept.Branches[1].Layers) != 3 {
		t.Errorf("blocks %T %T %T", net.Layers[2], net.Layers[5], net.Layers[3])
	}
	// The summary (the explorer's rows) opens them as the zoo's blocks.
	sum, err := zoo.Summarize(&zoo.Model{Name: "onnx", Input: []int{3, 32, 32}, Classes: 10, Net: net})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{"block.conv1", "block.shortcut", "block.add", "block.relu", "incept.branch2.0", "incept.cat", "down.shortcut", "silu"} {
		if _, _, ok := sum.Row(row); !ok {
			t.Errorf("no summary row %s", row)
		}
	}
	m, _ = onnx.Read("testdata/chain.onnx")
	m.Graph().Node[4].Input = append(m.Graph().Node[4].Input, m.Graph().Node[0].Output[0])
	if _, _, _, err := m.Chain(); err == nil || !strings.Contains(err.Error(), "node /features/features.5/Relu (Relu): reads 2 values (/features/features.4/Conv_output_0, /features/features.0/Conv_output_0): convscope joins values with Add, Concat and Mul") {
		t.Errorf("a node reading two values: %v", err)
	}
}

func proto(s string) *string { return &s }

// The summary opens a graph to its nodes: each join says what it reads,
// shapes follow the wiring, and receptive fields grow along the widest
// path (3x3 convolutions: 3 at the stem, 5, 7, 9 through the dense layers,
// 11 after the strided one), a gate's product keeping its maps' field.
func TestGraphSummary(t *testing.T) {
	m, err := onnx.Read("testdata/graphy.onnx")
	if err != nil {
		t.Fatal(err)
	}
	net, _, _, err := m.Chain()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := zoo.Summarize(&zoo.Model{Name: "graphy", Input: []int{3, 32, 32}, Classes: 10, Net: net})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		output []int
		rf     int
		from   string
	}{
		{"graph", []int{16, 16, 16}, 11, ""},
		{"dense.0.conv", []int{4, 32, 32}, 5, ""},
		{"dense.2.concat", []int{16, 32, 32}, 7, ` dense.0.conv dense.1.conv`},
		{"se.mul", []int{20, 32, 32}, 9, "Concat se.sigmoid"},
		{"skip", []int{16, 16, 16}, 3, ""},
		{"down", []int{16, 16, 16}, 11, ""},
		{"Add", []int{16, 16, 16}, 11, "down skip"},
		{"Relu_1", []int{16, 16, 16}, 11, ""},
	} {
		row, _, ok := sum.Row(c.name)
		if !ok {
			t.Errorf("no row %s", c.name)
			continue
		}
		if !slices.Equal(row.Output, c.output) || row.RF != c.rf || strings.Join(row.From, " ") != c.from {
			t.Errorf("%s: output %v, RF %d, from %q; want %v, %d, %q", c.name, row.Output, row.RF, row.From, c.output, c.rf, c.from)
		}
	}
	if row, _, _ := sum.Row("skip"); row.Parent != "graph" || row.Depth != 1 {
		t.Errorf("skip sits in %q at depth %d", row.Parent, row.Depth)
	}
}
