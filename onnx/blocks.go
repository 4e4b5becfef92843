package onnx

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/onnx/onnxpb"
)

// index records the Constant nodes' values and, for every value, the nodes
// that read it as data.
func (b *chainBuilder) index() error {
	b.users = map[string][]int{}
	for i, n := range b.m.Graph().GetNode() {
		switch {
		case n.GetOpType() == "Constant":
			if err := b.constant(n); err != nil {
				return fmt.Errorf("node %s (Constant): %w", nodeName(n, i), err)
			}
		case n.GetOpType() == "Identity" && len(n.GetInput()) == 1 && len(n.GetOutput()) == 1 && b.consts[n.GetInput()[0]]:
			// A constant under another name (torch.onnx shares weights so).
			in, out := n.GetInput()[0], n.GetOutput()[0]
			if w, ok := b.m.Weights[in]; ok {
				b.m.Weights[out] = w
			} else {
				b.m.Ints[out] = b.m.Ints[in]
			}
			b.consts[out] = true
		}
	}
	b.containers = map[string]bool{}
	for i, n := range b.m.Graph().GetNode() {
		for _, in := range b.dataInputs(n) {
			b.users[in] = append(b.users[in], i)
		}
		mod := moduleOf(n)
		for cut := strings.LastIndex(mod, "."); cut > 0; cut = strings.LastIndex(mod[:cut], ".") {
			b.containers[mod[:cut]] = true
		}
	}
	return nil
}

// dataInputs are the values n reads that are not constants.
func (b *chainBuilder) dataInputs(n *onnxpb.NodeProto) []string {
	var data []string
	for _, in := range n.GetInput() {
		if in != "" && !b.consts[in] && !slices.Contains(data, in) {
			data = append(data, in)
		}
	}
	return data
}

// walk follows the graph from the current value, adding layers, until the
// next node is stop (where the caller's paths meet; -1: none) or no node
// reads the value (the graph's output).
func (b *chainBuilder) walk(stop int) error {
	nodes := b.m.Graph().GetNode()
	for {
		users := b.users[b.cur]
		switch {
		case len(users) == 0:
			return nil
		case len(users) == 1 && users[0] == stop:
			return nil
		case len(users) == 1:
			i := users[0]
			if err := b.node(nodes[i], i == len(nodes)-1); err != nil {
				return fmt.Errorf("node %s (%s): %w", nodeName(nodes[i], i), nodes[i].GetOpType(), err)
			}
		default:
			if err := b.fork(users); err != nil {
				return err
			}
		}
	}
}

// reach is the set of nodes reachable from node i along data edges, i
// included.
func (b *chainBuilder) reach(i int, seen map[int]bool) map[int]bool {
	if seen[i] {
		return seen
	}
	seen[i] = true
	for _, out := range b.m.Graph().GetNode()[i].GetOutput() {
		for _, j := range b.users[out] {
			b.reach(j, seen)
		}
	}
	return seen
}

// path is one of the paths that fork from a value: its layers, the value
// it ends in and that value's shape.
type path struct {
	layers []nn.Layer
	end    string
	shape  []int
}

// fork builds the paths that start at the current value (read by the
// nodes users) and the node where they meet, as one block.
func (b *chainBuilder) fork(users []int) error {
	if ok, err := b.gelu(users); ok || err != nil {
		return err
	}
	// The paths as the zoo's blocks, and where they are not, as a graph.
	from, shape, before, names := b.cur, b.shape, b.layers, maps.Clone(b.names)
	err := b.blocks(users)
	if err == nil {
		return nil
	}
	b.cur, b.shape, b.layers, b.names = from, shape, before, names
	return b.region(users)
}

// blocks builds the paths that fork from the current value as a residual
// block or a concatenation of branches, when that is what they are.
func (b *chainBuilder) blocks(users []int) error {
	nodes := b.m.Graph().GetNode()
	// They meet at the first node every path reaches.
	common := b.reach(users[0], map[int]bool{})
	for _, u := range users[1:] {
		r := b.reach(u, map[int]bool{})
		for k := range common {
			if !r[k] {
				delete(common, k)
			}
		}
	}
	if len(common) == 0 {
		return fmt.Errorf("the paths from %s never meet again: a graph of this shape is not supported", b.cur)
	}
	join := slices.Min(slicesOf(common))
	jn := nodes[join]
	from, fromShape, before := b.cur, b.shape, b.layers
	var paths []path
	for _, u := range users {
		if u == join {
			paths = append(paths, path{end: from, shape: fromShape}) // the value itself: an identity path
			continue
		}
		b.cur, b.shape, b.layers = from, fromShape, nil
		if err := b.node(nodes[u], false); err != nil {
			return fmt.Errorf("node %s (%s): %w", nodeName(nodes[u], u), nodes[u].GetOpType(), err)
		}
		if err := b.walk(join); err != nil {
			return err
		}
		paths = append(paths, path{layers: b.layers, end: b.cur, shape: b.shape})
	}
	b.layers = before
	block, shape, err := b.meet(jn, from, paths)
	if err != nil {
		return fmt.Errorf("node %s (%s): %w", nodeName(jn, join), jn.GetOpType(), err)
	}
	b.cur, b.shape = jn.GetOutput()[0], shape
	// The ReLU of the block's own forward after the addition (ResNet's)
	// is the block's last part.
	if r, ok := block.(*nn.Residual); ok {
		if users := b.users[b.cur]; len(users) == 1 && nodes[users[0]].GetOpType() == "Relu" && moduleOf(nodes[users[0]]) == moduleOf(jn) {
			r.After = nn.NewReLU(b.unique(r.Name()+".relu", "Relu"))
			b.cur = nodes[users[0]].GetOutput()[0]
		}
	}
	b.layers = append(b.layers, block)
	return nil
}

func slicesOf(set map[int]bool) []int {
	out := make([]int, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	return out
}

// meet makes the block of the paths that fork from value from and meet at
// node n: a residual block (Add), a concatenation of branches (Concat on
// the channels), or x times its own sigmoid (SiLU, Hardswish). Its output
// shape comes with it.
func (b *chainBuilder) meet(n *onnxpb.NodeProto, from string, paths []path) (nn.Layer, []int, error) {
	in := b.dataInputs(n)
	byEnd := map[string]path{}
	for _, p := range paths {
		byEnd[p.end] = p
	}
	ordered := make([]path, len(in))
	for i, v := range in {
		p, ok := byEnd[v]
		if !ok {
			return nil, nil, fmt.Errorf("reads %s, which is not where one of the paths from %s ends", v, from)
		}
		ordered[i] = p
	}
	if len(in) != len(paths) {
		return nil, nil, fmt.Errorf("joins %d values of %d paths", len(in), len(paths))
	}
	var name string
	if n.GetOpType() != "Mul" {
		name = b.unique(moduleOf(n), n.GetOpType())
	}
	switch n.GetOpType() {
	case "Add":
		if len(ordered) != 2 || !slices.Equal(ordered[0].shape, ordered[1].shape) {
			return nil, nil, fmt.Errorf("adds %d values of shapes that differ: a residual block adds two of one shape", len(ordered))
		}
		body, short := ordered[0], ordered[1]
		if len(body.layers) < len(short.layers) {
			body, short = short, body
		}
		if len(body.layers) == 0 {
			return nil, nil, fmt.Errorf("adds a value to itself")
		}
		var shortcut *nn.Chain
		if len(short.layers) > 0 {
			shortcut = nn.NewChain(name+".shortcut", short.layers...)
		}
		return nn.NewResidual(name, nn.NewChain(name+".body", body.layers...), shortcut, nil), body.shape, nil
	case "Concat":
		if ax := attrs(n).int("axis", 1); ax != 1 {
			return nil, nil, fmt.Errorf("Concat along axis %d; convscope concatenates channels (axis 1)", ax)
		}
		shape := slices.Clone(ordered[0].shape)
		branches := make([]*nn.Chain, len(ordered))
		for i, p := range ordered {
			if len(p.shape) != 3 || !slices.Equal(p.shape[1:], shape[1:]) {
				return nil, nil, fmt.Errorf("concatenates maps of different sizes")
			}
			if i > 0 {
				shape[0] += p.shape[0]
			}
			if len(p.layers) == 0 {
				return nil, nil, fmt.Errorf("concatenates its input unchanged: not supported")
			}
			branches[i] = nn.NewChain(branchName(name, i, p.layers), p.layers...)
		}
		return nn.NewConcat(name, branches...), shape, nil
	case "Mul":
		// x · sigmoid(x) and x · hardsigmoid(x), as torch.onnx writes SiLU
		// and Hardswish.
		for i, p := range ordered {
			other := ordered[1-i]
			if len(ordered) != 2 || len(p.layers) != 1 || len(other.layers) != 0 {
				continue
			}
			switch p.layers[0].Type() {
			case "Sigmoid", "Hardsigmoid":
				delete(b.names, p.layers[0].Name()) // the gate becomes part of one activation
				name = b.layerName(n, n.GetOpType())
				if p.layers[0].Type() == "Sigmoid" {
					return nn.NewSiLU(name), p.shape, nil
				}
				return nn.NewHardswish(name), p.shape, nil
			}
		}
		return nil, nil, fmt.Errorf("multiplies values: convscope builds x·sigmoid(x) (SiLU) and x·hardsigmoid(x) (Hardswish) only")
	}
	return nil, nil, fmt.Errorf("paths meet in a %s: convscope builds residual blocks (Add) and concatenations (Concat)", n.GetOpType())
}

// branchName names a concatenation's branch after the module its layers
// share ("inception3a.branch1"), or NAME.branchK.
func branchName(name string, i int, layers []nn.Layer) string {
	prefix := layers[0].Name()
	for _, l := range layers[1:] {
		for !strings.HasPrefix(l.Name(), prefix) || (len(l.Name()) > len(prefix) && l.Name()[len(prefix)] != '.') {
			cut := strings.LastIndex(prefix, ".")
			if cut < 0 {
				prefix = ""
				break
			}
			prefix = prefix[:cut]
		}
	}
	if len(prefix) > len(name) && strings.HasPrefix(prefix, name+".") {
		return prefix
	}
	return fmt.Sprintf("%s.branch%d", name, i+1)
}

// gelu recognises x · 0.5 · (1 + erf(x / √2)), as torch.onnx writes GELU
// before opset 20: Div by √2, Erf, Add 1, Mul by x, Mul by 0.5. It adds one
// GELU layer and moves past the five nodes (their indices go in
// b.matched), or reports no match.
func (b *chainBuilder) gelu(users []int) (bool, error) {
	nodes := b.m.Graph().GetNode()
	if len(users) != 2 {
		return false, nil
	}
	div, mul := users[0], users[1]
	if nodes[div].GetOpType() != "Div" {
		div, mul = mul, div
	}
	next := func(i int, op string) int {
		if i < 0 || len(nodes[i].GetOutput()) != 1 {
			return -1
		}
		us := b.users[nodes[i].GetOutput()[0]]
		if len(us) != 1 || nodes[us[0]].GetOpType() != op {
			return -1
		}
		return us[0]
	}
	constIs := func(i int, v float64) bool {
		for _, in := range nodes[i].GetInput() {
			if t, ok := b.m.Weights[in]; ok && len(t.Data) == 1 && math.Abs(float64(t.Data[0])-v) < 1e-4 {
				return true
			}
		}
		return false
	}
	if nodes[div].GetOpType() != "Div" || nodes[mul].GetOpType() != "Mul" || !constIs(div, math.Sqrt2) {
		return false, nil
	}
	erf := next(div, "Erf")
	add := next(erf, "Add")
	join := next(add, "Mul")
	half := next(join, "Mul")
	if add < 0 || join != mul || half < 0 || !constIs(add, 1) || !constIs(half, 0.5) {
		return false, nil
	}
	name := b.layerName(nodes[div], "GELU")
	l := nn.NewGELU(name)
	shape, err := l.OutputShape(b.shape)
	if err != nil {
		return true, err
	}
	b.layers = append(b.layers, l)
	b.cur, b.shape = nodes[half].GetOutput()[0], shape
	b.matched = []int{div, erf, add, join, half}
	return true, nil
}
