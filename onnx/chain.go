package onnx

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/onnx/onnxpb"
)

// Chain builds the network of a graph of layers: a chain of nodes, each
// reading the previous one's output and constants (initializers, Constant
// nodes), as a plain CNN exported by torch.onnx is (LeNet, AlexNet, VGG, a
// small model of one's own), where paths that fork from one value and meet
// again become convscope's blocks (blocks.go): a residual block where they
// meet in an Add, an Inception-style concatenation where they meet in a
// Concat. Each node becomes the nn layer that computes the same thing, with
// the file's weights, so the explorer, the summary and every attribution
// method work on it. A graph of another shape, or an operator convscope has
// no layer for, is an error naming the node. It returns the per-sample
// input shape (C,H,W) and the number of outputs. A final Softmax is left
// out: the page applies its own.
func (m *Model) Chain() (net *nn.Sequential, input []int, classes int, err error) {
	net, input, out, err := m.Network(true)
	if err != nil {
		return nil, nil, 0, err
	}
	if len(out) != 1 {
		return nil, nil, 0, fmt.Errorf("the graph ends in %s maps, not a vector of class scores", nn.ShapeString(out))
	}
	return net, input, out[0], nil
}

// Network is Chain's network with the per-sample shapes of its input and
// output, whatever they are; picture asks for a (N,C,H,W) input with C, H
// and W fixed (Chain's), otherwise any fixed per-sample shape will do (the
// ONNX backend suite's cases).
func (m *Model) Network(picture bool) (net *nn.Sequential, input, output []int, err error) {
	g := m.Graph()
	b := &chainBuilder{m: m, consts: map[string]bool{}, names: map[string]bool{}}
	for name := range m.Weights {
		b.consts[name] = true
	}
	for name := range m.Ints {
		b.consts[name] = true
	}
	for _, in := range g.GetInput() {
		if b.consts[in.GetName()] {
			continue
		}
		if b.cur != "" {
			return nil, nil, nil, fmt.Errorf("the graph has several inputs (%s, %s); convscope runs one picture", b.cur, in.GetName())
		}
		if picture {
			input, err = pictureShape(in)
		} else {
			input, err = sampleShape(in)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		b.cur = in.GetName()
	}
	if b.cur == "" {
		return nil, nil, nil, fmt.Errorf("the graph has no input besides its weights")
	}
	b.shape = input
	if err := b.index(); err != nil {
		return nil, nil, nil, err
	}
	if err := b.walk(-1); err != nil {
		return nil, nil, nil, err
	}
	outs := g.GetOutput()
	if len(outs) != 1 || outs[0].GetName() != b.cur {
		return nil, nil, nil, fmt.Errorf("the graph's output is not where its nodes lead")
	}
	if len(b.layers) == 0 {
		return nil, nil, nil, fmt.Errorf("the graph has no layer")
	}
	return &nn.Sequential{Layers: b.layers}, input, b.shape, nil
}

// sampleShape is a graph input's shape after the batch: every dimension
// fixed.
func sampleShape(in *onnxpb.ValueInfoProto) ([]int, error) {
	dims := in.GetType().GetTensorType().GetShape().GetDim()
	if len(dims) < 2 {
		return nil, fmt.Errorf("input %s has %d dimensions; convscope's inputs have a batch and a sample", in.GetName(), len(dims))
	}
	shape := make([]int, len(dims)-1)
	for i, d := range dims[1:] {
		if v := d.GetDimValue(); v >= 1 && v <= 1<<20 {
			shape[i] = int(v)
		} else {
			return nil, fmt.Errorf("input %s's dimension %d is %q, not fixed", in.GetName(), i+1, dimText(d))
		}
	}
	return shape, nil
}

// pictureShape is a graph input's (C,H,W): a 4-D tensor of known channels,
// height and width (the batch may be named or unknown).
func pictureShape(in *onnxpb.ValueInfoProto) ([]int, error) {
	dims := in.GetType().GetTensorType().GetShape().GetDim()
	if len(dims) != 4 {
		return nil, fmt.Errorf("input %s has %d dimensions; convscope runs (N,C,H,W) pictures", in.GetName(), len(dims))
	}
	shape := make([]int, 3)
	for i, d := range dims[1:] {
		v := d.GetDimValue()
		if v < 1 || v > 4096 {
			return nil, fmt.Errorf("input %s's dimension %d is %q: convscope needs a fixed channel count and picture size (at most 4096)", in.GetName(), i+1, dimText(d))
		}
		shape[i] = int(v)
	}
	return shape, nil
}

func dimText(d *onnxpb.TensorShapeProto_Dimension) string {
	if p := d.GetDimParam(); p != "" {
		return p
	}
	return fmt.Sprint(d.GetDimValue())
}

// chainBuilder turns nodes into layers, following the current value.
type chainBuilder struct {
	m      *Model
	consts map[string]bool // initializers and Constant nodes' outputs
	cur    string          // the value the chain has reached
	shape  []int           // its per-sample shape
	layers []nn.Layer
	names  map[string]bool
	// users lists, for each value, the nodes that read it as data (not
	// constants), by index (index).
	users map[string][]int
	// containers are the modules that hold other modules: a node of theirs
	// is a functional call in their forward ("block.relu"), and the node
	// where their paths meet names the block ("block").
	containers map[string]bool
	// matched lists the nodes the last pattern (gelu) took as one layer.
	matched []int
}

// node adds what n computes; last says it is the graph's final node.
func (b *chainBuilder) node(n *onnxpb.NodeProto, last bool) error {
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return fmt.Errorf("operator domain %q is not supported", d)
	}
	op := n.GetOpType()
	if op == "Constant" {
		return b.constant(n)
	}
	var data []string
	for _, in := range n.GetInput() {
		if in != "" && !b.consts[in] {
			data = append(data, in)
		}
	}
	if len(data) != 1 || data[0] != b.cur {
		return fmt.Errorf("reads %v, not only the previous node's output %s: a graph of this shape is not supported (convscope builds chains, residual blocks and concatenations)", data, b.cur)
	}
	if len(n.GetOutput()) < 1 {
		return fmt.Errorf("has no output")
	}
	out := n.GetOutput()[0]
	a := attrs(n)
	// What computes nothing, or joins the layer before, first.
	switch op {
	case "Identity", "Dropout", "Concat": // a Concat here has one data input
		b.cur = out // nothing to compute in an evaluation pass
		return nil
	case "Pad":
		// torch.onnx writes a Pad of zeros before some average pools.
		if err := b.zeroPad(n, a); err != nil {
			return err
		}
		b.cur = out
		return nil
	case "Softmax", "LogSoftmax":
		if !last {
			return fmt.Errorf("a %s before the end of the graph is not supported", op)
		}
		b.cur = out // the page applies its own softmax to the scores
		return nil
	case "Add":
		// A bias after MatMul: it joins the linear layer.
		if err := b.addBias(n); err != nil {
			return err
		}
		b.cur = out
		return nil
	}
	name := b.layerName(n, op)
	var l nn.Layer
	var err error
	switch op {
	case "Conv":
		l, err = b.conv(n, name, a)
	case "ConvTranspose":
		l, err = b.convTranspose(n, name, a)
	case "Gelu": // opset 20
		if ap := a.str("approximate", "none"); ap != "none" {
			return fmt.Errorf("Gelu with approximate=%s; convscope's GELU is the exact one", ap)
		}
		l = nn.NewGELU(name)
	case "Relu":
		l = nn.NewReLU(name)
	case "LeakyRelu":
		l = nn.NewLeakyReLU(name, a.float("alpha", 0.01))
	case "Sigmoid":
		l = nn.NewSigmoid(name)
	case "Tanh":
		l = nn.NewTanh(name)
	case "HardSwish":
		l = nn.NewHardswish(name)
	case "HardSigmoid":
		if math.Abs(float64(a.float("alpha", 0.2))-1.0/6) > 1e-6 || a.float("beta", 0.5) != 0.5 {
			return fmt.Errorf("HardSigmoid with alpha %g, beta %g; convscope's is PyTorch's (alpha 1/6, beta 0.5)", a.float("alpha", 0.2), a.float("beta", 0.5))
		}
		l = nn.NewHardsigmoid(name)
	case "Clip":
		l, err = b.clip(n, name, a)
	case "MaxPool", "AveragePool":
		l, err = b.pool(n, name, a)
	case "GlobalAveragePool":
		l = nn.NewAdaptiveAvgPool2d(name, 1, 1)
	case "BatchNormalization":
		l, err = b.batchNorm(n, name, a)
	case "LRN":
		l = nn.NewLocalResponseNorm(name, int(a.int("size", 0)), a.float("alpha", 1e-4), a.float("beta", 0.75), a.float("bias", 1))
	case "Flatten":
		if ax := a.int("axis", 1); ax != 1 {
			return fmt.Errorf("Flatten at axis %d; convscope flattens after the batch (axis 1)", ax)
		}
		l = nn.NewFlatten(name)
	case "Reshape":
		l, err = b.reshape(n, name)
	case "Transpose":
		l, err = b.transpose(name, a)
	case "LayerNormalization":
		l, err = b.layerNorm(n, name, a)
	case "Mul":
		l, err = b.scale(n, name)
	case "Gemm":
		l, err = b.gemm(n, name, a)
	case "MatMul":
		l, err = b.matmul(n, name)
	default:
		return fmt.Errorf("operator %s is not supported (convscope builds Conv, Relu, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, Clip, Gelu, MaxPool, AveragePool, GlobalAveragePool, BatchNormalization, LRN, LayerNormalization, ConvTranspose, Flatten, Reshape, Transpose, Gemm, MatMul, Add, Mul, Dropout, Identity, Pad, Softmax; see docs/ONNX.md)", op)
	}
	if err != nil {
		return err
	}
	shape, err := l.OutputShape(b.shape)
	if err != nil {
		return err
	}
	b.layers = append(b.layers, l)
	b.cur, b.shape = out, shape
	return nil
}

// constant records a Constant node's value.
func (b *chainBuilder) constant(n *onnxpb.NodeProto) error {
	if len(n.GetOutput()) != 1 {
		return fmt.Errorf("a Constant with %d outputs", len(n.GetOutput()))
	}
	out := n.GetOutput()[0]
	for _, at := range n.GetAttribute() {
		if at.GetName() != "value" || at.GetT() == nil {
			continue
		}
		t := at.GetT()
		if isFloat(t.GetDataType()) {
			x, err := Tensor(t)
			if err != nil {
				return err
			}
			b.m.Weights[out] = x
		} else {
			v, err := Ints(t)
			if err != nil {
				return err
			}
			b.m.Ints[out] = v
		}
		b.consts[out] = true
		return nil
	}
	return fmt.Errorf("a Constant without a tensor value")
}

// zeroPad checks that a Pad node adds nothing.
func (b *chainBuilder) zeroPad(n *onnxpb.NodeProto, a attrMap) error {
	if mode := a.str("mode", "constant"); mode != "constant" {
		return fmt.Errorf("Pad in %s mode is not supported", mode)
	}
	pads := a.ints("pads") // before opset 11
	if len(n.GetInput()) > 1 && n.GetInput()[1] != "" {
		v, ok := b.m.Ints[n.GetInput()[1]]
		if !ok {
			return fmt.Errorf("its pads %s are computed, not constant", n.GetInput()[1])
		}
		pads = v
	}
	for _, p := range pads {
		if p != 0 {
			return fmt.Errorf("Pad by %v: convscope's layers pad inside convolutions and pools only", pads)
		}
	}
	return nil
}

// layerName names a layer after the PyTorch module that wrote its node
// ("features.0" for the node "/features/features.0/Conv", as torch.onnx
// names them), or after its weight's initializer ("features.0" for
// "features.0.weight"), or the node's name: unique and dotted.
func (b *chainBuilder) layerName(n *onnxpb.NodeProto, op string) string {
	name := moduleOf(n)
	if b.containers[name] {
		name += "." + strings.ToLower(op)
	}
	for _, in := range n.GetInput()[1:] {
		if base, ok := strings.CutSuffix(in, ".weight"); name == "" && ok && b.consts[in] {
			name = base
			break
		}
	}
	if name == "" {
		name = n.GetName()
	}
	return b.unique(name, op)
}

// unique makes name safe in a dotted path and unused so far.
func (b *chainBuilder) unique(name, op string) string {
	name = strings.Trim(unsafeName.ReplaceAllString(name, "."), ".")
	if name == "" {
		name = strings.ToLower(op)
	}
	for base, k := name, 1; b.names[name]; k++ {
		name = fmt.Sprintf("%s_%d", base, k)
	}
	b.names[name] = true
	return name
}

// moduleOf is the dotted name of the PyTorch module that wrote node n, from
// the scope torch.onnx names it with: each level is an attribute ("conv1")
// or a container's child qualified by the container's attribute
// ("branch2.0"), so "/incept/branch2/branch2.0/Conv" is
// "incept.branch2.0" and "/layer1/layer1.0/conv1/Conv" "layer1.0.conv1";
// "" for another naming.
func moduleOf(n *onnxpb.NodeProto) string {
	parts := strings.Split(n.GetName(), "/")
	if len(parts) < 3 || parts[0] != "" {
		return ""
	}
	name, last := "", ""
	for _, p := range parts[1 : len(parts)-1] {
		switch {
		case name == "":
			name = p
		case strings.HasPrefix(p, last+"."):
			name = name[:len(name)-len(last)] + p
		default:
			name += "." + p
		}
		last = p
	}
	return name
}

// unsafeName matches what may not stand in a layer's dotted name.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func nodeName(n *onnxpb.NodeProto, i int) string {
	if n.GetName() != "" {
		return n.GetName()
	}
	return fmt.Sprintf("#%d", i)
}

// weight is the initializer a node's input k names, or an error.
func (b *chainBuilder) weight(n *onnxpb.NodeProto, k int, what string) (*nn.Tensor, error) {
	if k >= len(n.GetInput()) || n.GetInput()[k] == "" {
		return nil, fmt.Errorf("no %s", what)
	}
	t, ok := b.m.Weights[n.GetInput()[k]]
	if !ok {
		return nil, fmt.Errorf("its %s %s is not a constant floating-point tensor", what, n.GetInput()[k])
	}
	return t, nil
}

// same reads a per-axis attribute that convscope's layers take as one
// number (square kernels, equal strides, the same padding on every side).
func same(name string, v []int64, def int) (int, error) {
	if len(v) == 0 {
		return def, nil
	}
	for _, x := range v[1:] {
		if x != v[0] {
			return 0, fmt.Errorf("%s %v: convscope's layers take the same on every axis and side", name, v)
		}
	}
	return int(v[0]), nil
}

// window reads a convolution's or a pool's stride, padding and dilation,
// each the same on every axis and side, with explicit pads.
func window(a attrMap) (stride, pad, dil int, err error) {
	if p := a.str("auto_pad", "NOTSET"); p != "NOTSET" {
		return 0, 0, 0, fmt.Errorf("auto_pad %s is not supported (export with explicit pads)", p)
	}
	if stride, err = same("strides", a.ints("strides"), 1); err != nil {
		return 0, 0, 0, err
	}
	if pad, err = same("pads", a.ints("pads"), 0); err != nil {
		return 0, 0, 0, err
	}
	dil, err = same("dilations", a.ints("dilations"), 1)
	return stride, pad, dil, err
}

func (b *chainBuilder) conv(n *onnxpb.NodeProto, name string, a attrMap) (nn.Layer, error) {
	w, err := b.weight(n, 1, "weight")
	if err != nil {
		return nil, err
	}
	if len(w.Shape) != 4 || w.Shape[2] != w.Shape[3] {
		return nil, fmt.Errorf("weight %s: convscope's convolutions are 2-D with square kernels", nn.ShapeString(w.Shape))
	}
	stride, pad, dil, err := window(a)
	if err != nil {
		return nil, err
	}
	groups := int(a.int("group", 1))
	if len(b.shape) != 3 || groups < 1 || b.shape[0] != w.Shape[1]*groups || w.Shape[0]%groups != 0 {
		return nil, fmt.Errorf("weight %s with %d groups does not fit its input %s", nn.ShapeString(w.Shape), groups, nn.ShapeString(b.shape))
	}
	bias, _ := b.weight(n, 2, "bias")
	c := nn.NewConv(name, nn.ConvConfig{In: b.shape[0], Out: w.Shape[0], Kernel: w.Shape[2], Stride: stride, Padding: pad,
		Dilation: dil, Groups: groups, Bias: bias != nil})
	copy(c.Weight.Value.Data, w.Data)
	if bias != nil {
		if len(bias.Data) != w.Shape[0] {
			return nil, fmt.Errorf("bias of %d for %d maps", len(bias.Data), w.Shape[0])
		}
		copy(c.Bias.Value.Data, bias.Data)
	}
	return c, nil
}

// convTranspose is a transposed convolution of groups 1 and dilation 1,
// square kernel, the same stride and padding on every axis.
func (b *chainBuilder) convTranspose(n *onnxpb.NodeProto, name string, a attrMap) (nn.Layer, error) {
	if len(a.ints("output_shape")) > 0 {
		return nil, fmt.Errorf("an explicit output_shape is not supported")
	}
	w, err := b.weight(n, 1, "weight")
	if err != nil {
		return nil, err
	}
	// ONNX's weight is (in, out/groups, kh, kw).
	if len(w.Shape) != 4 || w.Shape[2] != w.Shape[3] || len(b.shape) != 3 || w.Shape[0] != b.shape[0] {
		return nil, fmt.Errorf("weight %s does not fit its input %s with a square kernel", nn.ShapeString(w.Shape), nn.ShapeString(b.shape))
	}
	if g := a.int("group", 1); g != 1 {
		return nil, fmt.Errorf("%d groups; convscope's transposed convolution has one", g)
	}
	stride, pad, dil, err := window(a)
	if err != nil {
		return nil, err
	}
	if dil != 1 {
		return nil, fmt.Errorf("dilated transposed convolutions are not supported")
	}
	outPad, err := same("output_padding", a.ints("output_padding"), 0)
	if err != nil {
		return nil, err
	}
	bias, _ := b.weight(n, 2, "bias")
	c := nn.NewConvTranspose2d(name, w.Shape[0], w.Shape[1], w.Shape[2], stride, pad, outPad, bias != nil)
	if len(c.Weight.Value.Data) != len(w.Data) {
		return nil, fmt.Errorf("weight %s for a layer of %s", nn.ShapeString(w.Shape), nn.ShapeString(c.Weight.Value.Shape))
	}
	copy(c.Weight.Value.Data, w.Data)
	if bias != nil {
		if len(bias.Data) != w.Shape[1] {
			return nil, fmt.Errorf("bias of %d for %d maps", len(bias.Data), w.Shape[1])
		}
		copy(c.Bias.Value.Data, bias.Data)
	}
	return c, nil
}

func (b *chainBuilder) clip(n *onnxpb.NodeProto, name string, a attrMap) (nn.Layer, error) {
	lo, hi := a.float("min", float32(math.Inf(-1))), a.float("max", float32(math.Inf(1)))
	// From opset 11 the bounds are inputs.
	for k, dst := range map[int]*float32{1: &lo, 2: &hi} {
		if k < len(n.GetInput()) && n.GetInput()[k] != "" {
			t, ok := b.m.Weights[n.GetInput()[k]]
			if !ok || len(t.Data) != 1 {
				return nil, fmt.Errorf("bound %s is not a constant number", n.GetInput()[k])
			}
			*dst = t.Data[0]
		}
	}
	switch {
	case lo == 0 && hi == 6:
		return nn.NewReLU6(name), nil
	case lo == 0 && math.IsInf(float64(hi), 1):
		return nn.NewReLU(name), nil
	}
	return nil, fmt.Errorf("Clip to [%g, %g]: convscope has ReLU ([0, inf)) and ReLU6 ([0, 6])", lo, hi)
}

func (b *chainBuilder) pool(n *onnxpb.NodeProto, name string, a attrMap) (nn.Layer, error) {
	k, err := same("kernel_shape", a.ints("kernel_shape"), 0)
	if err != nil || k < 1 {
		return nil, fmt.Errorf("kernel %v: want one square kernel", a.ints("kernel_shape"))
	}
	stride, pad, dil, err := window(a)
	if err != nil {
		return nil, err
	}
	if dil != 1 {
		return nil, fmt.Errorf("dilated pooling is not supported")
	}
	cfg := nn.PoolConfig{Kernel: k, Stride: stride, Padding: pad, CeilMode: a.int("ceil_mode", 0) == 1,
		ExcludePad: a.int("count_include_pad", 0) == 0}
	if n.GetOpType() == "MaxPool" {
		if len(n.GetOutput()) > 1 && n.GetOutput()[1] != "" {
			return nil, fmt.Errorf("MaxPool's indices output is not supported")
		}
		return nn.NewMaxPool(name, cfg), nil
	}
	return nn.NewAvgPool(name, cfg), nil
}

func (b *chainBuilder) batchNorm(n *onnxpb.NodeProto, name string, a attrMap) (nn.Layer, error) {
	if len(b.shape) != 3 {
		return nil, fmt.Errorf("BatchNormalization of %s: convscope's works on maps", nn.ShapeString(b.shape))
	}
	bn := nn.NewBatchNorm2d(name, b.shape[0])
	bn.Eps = a.float("epsilon", 1e-5)
	for k, dst := range []*nn.Param{bn.Weight, bn.Bias, bn.RunningMean, bn.RunningVar} {
		t, err := b.weight(n, k+1, []string{"scale", "bias", "mean", "variance"}[k])
		if err != nil {
			return nil, err
		}
		if len(t.Data) != b.shape[0] {
			return nil, fmt.Errorf("%d values for %d maps", len(t.Data), b.shape[0])
		}
		copy(dst.Value.Data, t.Data)
	}
	return bn, nil
}

// reshape takes the one reshape a chain of layers has, flattening maps to a
// vector per sample: a constant shape (N or 0 or 1, -1 or their product).
func (b *chainBuilder) reshape(n *onnxpb.NodeProto, name string) (nn.Layer, error) {
	if len(n.GetInput()) < 2 {
		return nil, fmt.Errorf("no shape")
	}
	shape, ok := b.m.Ints[n.GetInput()[1]]
	if !ok {
		return nil, fmt.Errorf("its shape %s is computed, not a constant (export with torch.flatten(x, 1))", n.GetInput()[1])
	}
	if len(shape) == 2 && (shape[1] == -1 || int(shape[1]) == nn.Numel(b.shape)) {
		return nn.NewFlatten(name), nil
	}
	return nil, fmt.Errorf("reshape to %v: convscope's chains reshape only to (N, -1)", shape)
}

// gemm is Y = A·Bᵀ + C (transB 1, what torch.onnx writes for nn.Linear) or
// A·B + C, A the chain's vector.
func (b *chainBuilder) gemm(n *onnxpb.NodeProto, name string, a attrMap) (nn.Layer, error) {
	if a.int("transA", 0) != 0 || a.float("alpha", 1) != 1 || a.float("beta", 1) != 1 {
		return nil, fmt.Errorf("Gemm with transA %d, alpha %g, beta %g; convscope builds A·B(ᵀ) + C", a.int("transA", 0), a.float("alpha", 1), a.float("beta", 1))
	}
	w, err := b.weight(n, 1, "weight")
	if err != nil {
		return nil, err
	}
	if a.int("transB", 0) == 0 {
		w = transpose2(w)
	}
	return b.linear(name, w, n, 2)
}

// matmul is a linear layer without a bias (an Add after it brings one).
func (b *chainBuilder) matmul(n *onnxpb.NodeProto, name string) (nn.Layer, error) {
	w, err := b.weight(n, 1, "weight")
	if err != nil {
		return nil, err
	}
	return b.linear(name, transpose2(w), n, -1)
}

// linear makes a linear layer of weight w (out, in) and the bias at input
// k of n, if any.
func (b *chainBuilder) linear(name string, w *nn.Tensor, n *onnxpb.NodeProto, k int) (nn.Layer, error) {
	if len(w.Shape) != 2 || len(b.shape) == 0 || w.Shape[1] != b.shape[len(b.shape)-1] {
		return nil, fmt.Errorf("weight %s does not fit its input %s", nn.ShapeString(w.Shape), nn.ShapeString(b.shape))
	}
	var bias *nn.Tensor
	if k > 0 {
		bias, _ = b.weight(n, k, "bias")
	}
	l := nn.NewLinear(name, w.Shape[1], w.Shape[0], bias != nil)
	copy(l.Weight.Value.Data, w.Data)
	if bias != nil {
		if len(bias.Data) != w.Shape[0] {
			return nil, fmt.Errorf("bias of %d for %d outputs", len(bias.Data), w.Shape[0])
		}
		copy(l.Bias.Value.Data, bias.Data)
	}
	return l, nil
}

// addBias folds an Add of a constant into the linear layer before it.
func (b *chainBuilder) addBias(n *onnxpb.NodeProto) error {
	var prev *nn.Linear
	if len(b.layers) > 0 {
		prev, _ = b.layers[len(b.layers)-1].(*nn.Linear)
	}
	var bias *nn.Tensor
	for _, in := range n.GetInput() {
		if t, ok := b.m.Weights[in]; ok {
			bias = t
		}
	}
	if prev == nil || prev.Bias != nil || bias == nil || len(bias.Data) != prev.OutFeatures {
		return fmt.Errorf("Add is supported only as the bias of the MatMul before it; the graph adds other values (a residual needs graph support)")
	}
	prev.Bias = &nn.Param{Name: prev.Name() + ".bias", Value: nn.FromData(slices.Clone(bias.Data), prev.OutFeatures), NoDecay: true}
	return nil
}

// transpose keeps the batch first and permutes the sample's axes
// (ConvNeXt's (C,H,W) to (H,W,C) and back).
func (b *chainBuilder) transpose(name string, a attrMap) (nn.Layer, error) {
	perm := a.ints("perm")
	if len(perm) != len(b.shape)+1 || perm[0] != 0 {
		return nil, fmt.Errorf("Transpose %v of a (N,%s) value: convscope keeps the batch first", perm, nn.ShapeString(b.shape))
	}
	order := make([]int, len(perm)-1)
	for i, p := range perm[1:] {
		order[i] = int(p) - 1
	}
	return nn.NewPermute(name, order...), nil
}

// layerNorm is a layer normalisation over the last axis, with constant
// scale and bias.
func (b *chainBuilder) layerNorm(n *onnxpb.NodeProto, name string, a attrMap) (nn.Layer, error) {
	if ax := a.int("axis", -1); ax != -1 && int(ax) != len(b.shape) {
		return nil, fmt.Errorf("LayerNormalization over axis %d; convscope's normalises the last axis", ax)
	}
	c := b.shape[len(b.shape)-1]
	l := nn.NewLayerNorm(name, c, a.float("epsilon", 1e-5), false)
	for k, dst := range []*nn.Param{l.Weight, l.Bias} {
		t, err := b.weight(n, k+1, []string{"scale", "bias"}[k])
		if err != nil {
			return nil, err
		}
		if len(t.Data) != c {
			return nil, fmt.Errorf("%d values to normalise %d", len(t.Data), c)
		}
		copy(dst.Value.Data, t.Data)
	}
	return l, nil
}

// scale is a Mul by a constant of one value per channel (ConvNeXt's layer
// scale, (C,1,1) on (C,H,W) maps).
func (b *chainBuilder) scale(n *onnxpb.NodeProto, name string) (nn.Layer, error) {
	var gamma *nn.Tensor
	for _, in := range n.GetInput() {
		if t, ok := b.m.Weights[in]; ok {
			gamma = t
		}
	}
	if gamma == nil || len(b.shape) < 1 || len(gamma.Data) != b.shape[0] {
		return nil, fmt.Errorf("Mul by something other than one constant per channel")
	}
	l := nn.NewLayerScale(name, b.shape[0], 0)
	copy(l.Gamma.Value.Data, gamma.Data)
	return l, nil
}

// transpose2 is a 2-D tensor transposed.
func transpose2(t *nn.Tensor) *nn.Tensor {
	if len(t.Shape) != 2 {
		return t
	}
	r, c := t.Shape[0], t.Shape[1]
	out := nn.New(c, r)
	for i := range r {
		for j := range c {
			out.Data[j*r+i] = t.Data[i*c+j]
		}
	}
	return out
}

// attrMap is a node's attributes by name.
type attrMap map[string]*onnxpb.AttributeProto

func attrs(n *onnxpb.NodeProto) attrMap {
	m := attrMap{}
	for _, a := range n.GetAttribute() {
		m[a.GetName()] = a
	}
	return m
}

func (a attrMap) int(name string, def int64) int64 {
	if v, ok := a[name]; ok {
		return v.GetI()
	}
	return def
}

func (a attrMap) float(name string, def float32) float32 {
	if v, ok := a[name]; ok {
		return v.GetF()
	}
	return def
}

func (a attrMap) ints(name string) []int64 { return a[name].GetInts() }

func (a attrMap) str(name, def string) string {
	if v, ok := a[name]; ok {
		return string(v.GetS())
	}
	return def
}
