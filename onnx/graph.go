package onnx

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/onnx/onnxpb"
)

// region builds the nodes from the current value to the next value that
// every path passes through as one nn.Graph: where the paths that fork
// from a value are not a residual block or a concatenation of branches
// (DenseNet's reuse of every earlier output, a skip over several blocks,
// a squeeze-and-excitation gate's product), each node becomes a node of
// the graph, its layer built as a chain's is, and the values that meet
// become its joins (Add, Concat on the channels, Mul).
func (b *chainBuilder) region(users []int) error {
	nodes := b.m.Graph().GetNode()
	inside, end, err := b.regionNodes(users)
	if err != nil {
		return err
	}
	from, before := b.cur, b.layers
	value := map[string]int{from: -1}
	shape := map[string][]int{from: b.shape}
	var gnodes []nn.Node
	taken := map[int]bool{}
	add := func(l nn.Layer, out string, outShape []int, ins ...int) {
		gnodes = append(gnodes, nn.Node{Layer: l, Inputs: ins})
		value[out], shape[out] = len(gnodes)-1, outShape
	}
	for _, i := range inside {
		if taken[i] {
			continue
		}
		n := nodes[i]
		where := func(err error) error {
			return fmt.Errorf("node %s (%s): %w", nodeName(n, i), n.GetOpType(), err)
		}
		var data []string
		for _, in := range n.GetInput() {
			if in != "" && !b.consts[in] {
				data = append(data, in)
			}
		}
		if len(data) == 0 {
			continue // Constant nodes, read by index
		}
		for _, v := range data {
			if _, ok := value[v]; !ok {
				return where(fmt.Errorf("reads %s, which its region does not compute", v))
			}
		}
		if len(data) > 1 && !(len(b.dataInputs(n)) == 1 && n.GetOpType() == "Mul") {
			l, s, err := b.join(n, data, shape)
			if err != nil {
				return where(err)
			}
			ins := make([]int, len(data))
			for k, v := range data {
				ins[k] = value[v]
			}
			add(l, n.GetOutput()[0], s, ins...)
			continue
		}
		v := data[0]
		b.cur, b.shape, b.layers = v, shape[v], nil
		if k := value[v]; k >= 0 {
			b.layers = []nn.Layer{gnodes[k].Layer} // a MatMul's bias joins it
		}
		if ok, err := b.gelu(b.users[v]); err != nil {
			return where(err)
		} else if ok {
			for _, k := range b.matched {
				taken[k] = true
			}
			add(b.layers[len(b.layers)-1], b.cur, b.shape, value[v])
			continue
		}
		if l, m, ok := b.gated(i, v); ok {
			taken[m] = true
			add(l, nodes[m].GetOutput()[0], shape[v], value[v])
			continue
		}
		had := len(b.layers)
		if err := b.node(n, i == len(nodes)-1); err != nil {
			return where(err)
		}
		if len(b.layers) > had {
			add(b.layers[had], b.cur, b.shape, value[v])
		} else { // computes nothing here, or joined the layer before
			value[b.cur], shape[b.cur] = value[v], b.shape
		}
	}
	if value[end] != len(gnodes)-1 {
		return fmt.Errorf("the graph from %s to %s ends in a value that no node computes", from, end)
	}
	var names []string
	for _, n := range gnodes {
		names = append(names, n.Layer.Name())
	}
	g, err := nn.NewGraph(b.unique(commonModule(names), "Graph"), gnodes...)
	if err != nil {
		return err
	}
	out, err := g.OutputShape(shape[from])
	if err != nil {
		return err
	}
	if !slices.Equal(out, shape[end]) {
		return fmt.Errorf("the graph from %s gives %s, its nodes %s", from, nn.ShapeString(out), nn.ShapeString(shape[end]))
	}
	b.layers = append(before, g)
	b.cur, b.shape = end, out
	return nil
}

// regionNodes lists, in order, the nodes from the current value (read by
// users) to the first value after it that every path passes through, and
// names that value: each node of the region reads only the current value,
// the region's values and constants, and the region's values are read
// only inside it, but for the last.
func (b *chainBuilder) regionNodes(users []int) ([]int, string, error) {
	nodes := b.m.Graph().GetNode()
	pending := map[string]int{b.cur: len(users)} // values with readers still to come
	var inside []int
	for i := slices.Min(users); i < len(nodes); i++ {
		n := nodes[i]
		data := b.dataInputs(n)
		if len(data) == 0 {
			continue
		}
		for _, v := range data {
			if pending[v] == 0 {
				return nil, "", fmt.Errorf("node %s (%s) reads %s, from outside the paths that fork from %s", nodeName(n, i), n.GetOpType(), v, b.cur)
			}
			if pending[v]--; pending[v] == 0 {
				delete(pending, v)
			}
		}
		for k, out := range n.GetOutput()[1:] {
			if len(b.users[out]) > 0 {
				return nil, "", fmt.Errorf("node %s (%s): its output %d is read; convscope's layers have one output", nodeName(n, i), n.GetOpType(), k+2)
			}
		}
		if len(n.GetOutput()) == 0 {
			return nil, "", fmt.Errorf("node %s (%s) has no output", nodeName(n, i), n.GetOpType())
		}
		out := n.GetOutput()[0]
		inside = append(inside, i)
		if us := len(b.users[out]); us > 0 {
			pending[out] = us
		}
		if len(pending) == 0 || len(pending) == 1 && pending[out] > 0 {
			return inside, out, nil
		}
	}
	return nil, "", fmt.Errorf("the paths from %s never meet again: a graph of this shape is not supported", b.cur)
}

// join makes the mark of a node where values meet.
func (b *chainBuilder) join(n *onnxpb.NodeProto, data []string, shape map[string][]int) (nn.Layer, []int, error) {
	op := n.GetOpType()
	shapes := make([][]int, len(data))
	for k, v := range data {
		shapes[k] = shape[v]
	}
	var out []int
	switch op {
	case "Add":
		if len(data) != 2 || !slices.Equal(shapes[0], shapes[1]) {
			return nil, nil, fmt.Errorf("adds values of shapes %v: convscope adds two of one shape", shapes)
		}
		out = slices.Clone(shapes[0])
	case "Concat":
		if ax := attrs(n).int("axis", 1); ax != 1 {
			return nil, nil, fmt.Errorf("Concat along axis %d; convscope concatenates channels (axis 1)", ax)
		}
		out = slices.Clone(shapes[0])
		for _, s := range shapes[1:] {
			if len(s) != len(out) || len(s) == 0 || !slices.Equal(s[1:], out[1:]) {
				return nil, nil, fmt.Errorf("concatenates values of shapes %v: their sizes after the channels differ", shapes)
			}
			out[0] += s[0]
		}
	case "Mul":
		if len(data) != 2 {
			return nil, nil, fmt.Errorf("multiplies %d values; convscope multiplies two", len(data))
		}
		out = slices.Clone(shapes[0])
		if nn.Numel(shapes[1]) > nn.Numel(out) {
			out = slices.Clone(shapes[1])
		}
	default:
		return nil, nil, fmt.Errorf("reads %d values (%s): convscope joins values with Add, Concat and Mul", len(data), strings.Join(data, ", "))
	}
	name := b.layerName(n, op)
	kind := op
	if op == "Concat" {
		kind = "Cat"
	}
	return nn.NewMark(name, kind), out, nil
}

// gated recognises x · sigmoid(x) (SiLU) and x · hardsigmoid(x)
// (Hardswish) at node i, the gate, reading v: it returns the activation
// and the product's node.
func (b *chainBuilder) gated(i int, v string) (nn.Layer, int, bool) {
	nodes := b.m.Graph().GetNode()
	n := nodes[i]
	op := n.GetOpType()
	if op != "Sigmoid" && op != "HardSigmoid" || len(n.GetOutput()) != 1 {
		return nil, 0, false
	}
	if op == "HardSigmoid" {
		a := attrs(n)
		if math.Abs(float64(a.float("alpha", 0.2))-1.0/6) > 1e-6 || a.float("beta", 0.5) != 0.5 {
			return nil, 0, false
		}
	}
	gate := b.users[n.GetOutput()[0]]
	if len(gate) != 1 {
		return nil, 0, false
	}
	m := nodes[gate[0]]
	if m.GetOpType() != "Mul" || !slices.Equal(sortedCopy(b.dataInputs(m)), sortedCopy([]string{v, n.GetOutput()[0]})) {
		return nil, 0, false
	}
	name := b.layerName(m, "Mul")
	if op == "Sigmoid" {
		return nn.NewSiLU(name), gate[0], true
	}
	return nn.NewHardswish(name), gate[0], true
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// commonModule is the longest dotted prefix the names share ("" for none).
func commonModule(names []string) string {
	if len(names) == 0 {
		return ""
	}
	prefix := strings.Split(names[0], ".")
	for _, n := range names[1:] {
		parts := strings.Split(n, ".")
		k := 0
		for k < len(prefix) && k < len(parts) && prefix[k] == parts[k] {
			k++
		}
		prefix = prefix[:k]
	}
	return strings.Join(prefix, ".")
}
