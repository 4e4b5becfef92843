package nn

import (
	"fmt"
	"slices"
	"strings"
)

// Graph is a block whose layers form a directed acyclic graph of values:
// each node reads the block's input or the outputs of nodes before it, so
// a value may be read by any number of later nodes. It carries the
// networks that are not a chain of the zoo's blocks, as an ONNX file may
// hold them: DenseNet's concatenation of every earlier output, a skip
// connection that spans several blocks, squeeze-and-excitation's product
// of a map and its gate. The chain and the zoo's blocks stay as they are;
// a Graph is what a model from outside becomes where they do not fit.
//
// Its forward records one Step per node (Saved is the node steps), and its
// backward sends the signal from the output back through every node in
// reverse order, adding up the signals of a value's readers, under any
// rule. Every node is a part of the block (Inside), addressed by its name.
type Graph struct {
	base
	Nodes []Node
}

// Node is one node of a Graph: a layer that reads one value, or a join (a
// Mark of type "Add", "Cat" or "Mul") that reads several.
type Node struct {
	Layer Layer
	// Inputs are the values the node reads: -1 the block's input, k >= 0
	// the output of Nodes[k] (k before this node).
	Inputs []int
}

// Joins combine the values that meet at a Graph's node: "Add" sums values
// of one shape, "Cat" concatenates them along the channels (axis 1), "Mul"
// multiplies two, where one may be a per-sample prefix of the other's shape
// with ones after it (a (C,1,1) gate times (C,H,W) maps).
var Joins = []string{"Add", "Cat", "Mul"}

// NewGraph makes a graph block and checks its wiring: inputs come before
// their reader, a layer reads one value and a join two or more, and every
// node's output is read by a later node, except the last's (the block's
// output).
func NewGraph(name string, nodes ...Node) (*Graph, error) {
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%s (Graph): no nodes", name)
	}
	read := make([]bool, len(nodes))
	for i, n := range nodes {
		if n.Layer == nil {
			return nil, fmt.Errorf("%s (Graph): node %d has no layer", name, i)
		}
		join := isJoin(n.Layer)
		switch {
		case join && len(n.Inputs) < 2:
			return nil, fmt.Errorf("%s (Graph): %s (%s) joins %d values, want two or more", name, n.Layer.Name(), n.Layer.Type(), len(n.Inputs))
		case join && n.Layer.Type() == "Mul" && len(n.Inputs) != 2:
			return nil, fmt.Errorf("%s (Graph): %s (Mul) multiplies %d values, want two", name, n.Layer.Name(), len(n.Inputs))
		case !join && len(n.Inputs) != 1:
			return nil, fmt.Errorf("%s (Graph): %s (%s) reads %d values, want one", name, n.Layer.Name(), n.Layer.Type(), len(n.Inputs))
		}
		for _, in := range n.Inputs {
			if in < -1 || in >= i {
				return nil, fmt.Errorf("%s (Graph): %s reads value %d, not the input or a node before it", name, n.Layer.Name(), in)
			}
			if in >= 0 {
				read[in] = true
			}
		}
	}
	for i, r := range read[:len(nodes)-1] {
		if !r {
			return nil, fmt.Errorf("%s (Graph): nothing reads %s's output", name, nodes[i].Layer.Name())
		}
	}
	return &Graph{base{name}, nodes}, nil
}

// isJoin reports whether l is one of the marks that join values.
func isJoin(l Layer) bool {
	m, ok := l.(*Mark)
	return ok && slices.Contains(Joins, m.kind)
}

// Type is "Graph".
func (gr *Graph) Type() string { return "Graph" }

func (gr *Graph) layers() []Layer {
	ls := make([]Layer, len(gr.Nodes))
	for i, n := range gr.Nodes {
		ls[i] = n.Layer
	}
	return ls
}

// Children are the nodes' layers and joins.
func (gr *Graph) Children() []Layer { return gr.layers() }

// Params lists the nodes' parameters.
func (gr *Graph) Params() []*Param { return chainParams(gr.layers()) }

// Buffers lists the nodes' buffers.
func (gr *Graph) Buffers() []*Param { return chainBuffers(gr.layers()) }

// shapes are the per-sample shapes of every node's output for input in.
func (gr *Graph) shapes(in []int) ([][]int, error) {
	out := make([][]int, len(gr.Nodes))
	value := func(k int) []int {
		if k < 0 {
			return in
		}
		return out[k]
	}
	for i, n := range gr.Nodes {
		if isJoin(n.Layer) {
			ins := make([][]int, len(n.Inputs))
			for j, k := range n.Inputs {
				ins[j] = value(k)
			}
			s, err := joinShape(n.Layer, ins, 0)
			if err != nil {
				return nil, err
			}
			out[i] = s
			continue
		}
		s, err := n.Layer.OutputShape(value(n.Inputs[0]))
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// OutputShape is the last node's output shape.
func (gr *Graph) OutputShape(in []int) ([]int, error) {
	s, err := gr.shapes(in)
	if err != nil {
		return nil, err
	}
	return s[len(s)-1], nil
}

// joinShape is the shape a join makes of its inputs' shapes; a
// concatenation's channels are on axis `channels` (0 in a per-sample
// shape, 1 in a batch's).
func joinShape(j Layer, ins [][]int, channels int) ([]int, error) {
	shapes := make([]string, len(ins))
	for i, s := range ins {
		shapes[i] = ShapeString(s)
	}
	bad := func(want string) error {
		return fmt.Errorf("%s (%s): inputs %s, %s", j.Name(), j.Type(), strings.Join(shapes, ", "), want)
	}
	switch j.Type() {
	case "Add":
		for _, s := range ins[1:] {
			if !SameShape(s, ins[0]) {
				return nil, bad("want one shape")
			}
		}
		return slices.Clone(ins[0]), nil
	case "Cat":
		out := slices.Clone(ins[0])
		if len(out) <= channels {
			return nil, bad("want channels to concatenate")
		}
		for _, s := range ins[1:] {
			if len(s) != len(out) || !SameShape(s[:channels], out[:channels]) || !SameShape(s[channels+1:], out[channels+1:]) {
				return nil, bad("want the same size but for the channels")
			}
			out[channels] += s[channels]
		}
		return out, nil
	case "Mul":
		if _, _, ok := broadcast(ins[0], ins[1]); !ok {
			return nil, bad("want one shape, or one a prefix of the other's with ones after it")
		}
		if Numel(ins[1]) > Numel(ins[0]) {
			return slices.Clone(ins[1]), nil
		}
		return slices.Clone(ins[0]), nil
	}
	return nil, bad("not a join")
}

// broadcast checks that a and b are one shape, or that the smaller is the
// larger's first axes with ones after them; it returns which is the larger
// (0 or 1) and how many of its values each of the smaller's multiplies.
func broadcast(a, b []int) (larger, inner int, ok bool) {
	if Numel(b) > Numel(a) {
		a, b, larger = b, a, 1
	}
	if len(a) != len(b) {
		return 0, 0, false
	}
	k := 0
	for k < len(a) && a[k] == b[k] {
		k++
	}
	for _, d := range b[k:] {
		if d != 1 {
			return 0, 0, false
		}
	}
	return larger, Numel(a) / Numel(b), true
}

// graphSaved is a Graph step's record: one step per node.
type graphSaved struct {
	steps []Step
}

// Forward runs the nodes in order; Saved holds their steps.
func (gr *Graph) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	s := &graphSaved{steps: make([]Step, len(gr.Nodes))}
	value := func(k int) *Tensor {
		if k < 0 {
			return x
		}
		return s.steps[k].Out
	}
	for i, n := range gr.Nodes {
		if !isJoin(n.Layer) {
			st, err := stepOf(n.Layer, value(n.Inputs[0]), ctx)
			if err != nil {
				return nil, nil, err
			}
			s.steps[i] = st
			continue
		}
		ins := make([]*Tensor, len(n.Inputs))
		for j, k := range n.Inputs {
			ins[j] = value(k)
		}
		y, err := join(n.Layer, ins, ctx.arena())
		if err != nil {
			return nil, nil, err
		}
		s.steps[i] = Step{Layer: n.Layer, In: y, Out: y, Saved: ins, arena: ctx.arena()}
	}
	return s.steps[len(s.steps)-1].Out, s, nil
}

// join computes a join's output from its inputs (N first).
func join(j Layer, ins []*Tensor, a *Arena) (*Tensor, error) {
	shapes := make([][]int, len(ins))
	for i, t := range ins {
		shapes[i] = t.Shape
	}
	shape, err := joinShape(j, shapes, 1)
	if err != nil {
		return nil, err
	}
	y := a.Uninit(shape...)
	switch j.Type() {
	case "Add":
		copy(y.Data, ins[0].Data)
		for _, t := range ins[1:] {
			addInto(y.Data, y.Data, t.Data)
		}
	case "Cat":
		n, at := shape[0], 0
		for s := range n {
			for _, t := range ins {
				per := len(t.Data) / n
				at += copy(y.Data[at:], t.Data[s*per:(s+1)*per])
			}
		}
	case "Mul":
		larger, inner, _ := broadcast(ins[0].Shape, ins[1].Shape)
		big, small := ins[larger], ins[1-larger]
		for i, v := range big.Data {
			y.Data[i] = v * small.Data[i/inner]
		}
	}
	return y, nil
}

// unjoin maps the signal at a join's output to a signal for each input.
// Under every rule it is the join's gradient: an addition passes the signal
// to each input, a concatenation splits it, a product sends each factor the
// signal times the other factor.
func unjoin(j Layer, dy *Tensor, ins []*Tensor, a *Arena) []*Tensor {
	out := make([]*Tensor, len(ins))
	switch j.Type() {
	case "Add":
		for i := range ins {
			out[i] = dy
		}
	case "Cat":
		n := dy.Shape[0]
		for i, t := range ins {
			out[i] = a.Uninit(t.Shape...)
		}
		at := 0
		for s := range n {
			for i, t := range ins {
				per := len(t.Data) / n
				at += copy(out[i].Data[s*per:(s+1)*per], dy.Data[at:at+per])
			}
		}
	case "Mul":
		larger, inner, _ := broadcast(ins[0].Shape, ins[1].Shape)
		big, small := ins[larger], ins[1-larger]
		dbig, dsmall := a.Uninit(big.Shape...), a.Zeros(small.Shape...)
		for i, d := range dy.Data {
			dbig.Data[i] = d * small.Data[i/inner]
			dsmall.Data[i/inner] += d * big.Data[i]
		}
		out[larger], out[1-larger] = dbig, dsmall
	}
	return out
}

// Backward sends dy from the output back to the input.
func (gr *Graph) Backward(dy *Tensor, st *Step, rule Rule, g Grads) (*Tensor, error) {
	if err := checkDy(gr, dy, st); err != nil {
		return nil, err
	}
	last := len(gr.Nodes) - 1
	return gr.back(st, last, last, dy, rule, g)
}

// back walks the nodes from `from` down, with the signal d at value v (-1
// the input) and none elsewhere, and returns the signal at the block's
// input. A value read by several nodes gets the sum of their signals.
func (gr *Graph) back(st *Step, from, v int, d *Tensor, rule Rule, g Grads) (*Tensor, error) {
	s := st.Saved.(*graphSaved)
	signal := make([]*Tensor, len(gr.Nodes)+1) // value k at k+1
	add := func(k int, d *Tensor) {
		if cur := signal[k+1]; cur != nil {
			sum := st.arena.Uninit(d.Shape...)
			addInto(sum.Data, cur.Data, d.Data)
			d = sum
		}
		signal[k+1] = d
	}
	add(v, d)
	for i := from; i >= 0; i-- {
		dy := signal[i+1]
		if dy == nil {
			continue // nothing of the seed reaches this node
		}
		n, ns := gr.Nodes[i], &s.steps[i]
		if isJoin(n.Layer) {
			if ns.Watch != nil {
				ns.Watch(dy)
			}
			for j, dx := range unjoin(n.Layer, dy, ns.Saved.([]*Tensor), st.arena) {
				add(n.Inputs[j], dx)
			}
			continue
		}
		dx, err := backward(n.Layer, dy, ns, rule, g)
		if err != nil {
			return nil, err
		}
		add(n.Inputs[0], dx)
	}
	if signal[0] == nil { // the seed does not depend on the input
		return st.arena.Zeros(st.In.Shape...), nil
	}
	return signal[0], nil
}

// Inside is every node, in order, each with the nodes it reads (From).
func (gr *Graph) Inside() []Part {
	parts := make([]Part, len(gr.Nodes))
	for i, n := range gr.Nodes {
		parts[i] = Part{Layer: n.Layer, From: n.Inputs}
	}
	return parts
}

func (gr *Graph) partSteps(st *Step) []*Step {
	s := st.Saved.(*graphSaved)
	out := make([]*Step, len(s.steps))
	for i := range s.steps {
		out[i] = &s.steps[i]
	}
	return out
}

// backFromPart: a layer's node has passed the seed to its input, which
// walks back from the nodes before it; a join's mark has passed it through
// unchanged, so it starts at the join's output.
func (gr *Graph) backFromPart(st *Step, i int, d *Tensor, rule Rule, g Grads) (*Tensor, error) {
	if isJoin(gr.Nodes[i].Layer) {
		return gr.back(st, i, i, d, rule, g)
	}
	return gr.back(st, i-1, gr.Nodes[i].Inputs[0], d, rule, g)
}

// Window is the widest composed window over the paths from the input to
// the output.
func (gr *Graph) Window() (int, int, int) {
	type win struct{ k, s, p int }
	at := make([]win, len(gr.Nodes))
	value := func(k int) win {
		if k < 0 {
			return win{1, 1, 0}
		}
		return at[k]
	}
	for i, n := range gr.Nodes {
		w := value(n.Inputs[0])
		for _, k := range n.Inputs[1:] {
			if o := value(k); o.k > w.k && n.Layer.Type() != "Mul" {
				w = o // a product keeps its first factor's (the maps', in squeeze-and-excitation)
			}
		}
		if lw, ok := n.Layer.(Windowed); ok {
			lk, ls, lp := lw.Window()
			w = win{w.k + (lk-1)*w.s, w.s * ls, w.p + lp*w.s}
		}
		at[i] = w
	}
	w := at[len(at)-1]
	return w.k, w.s, w.p
}

// MACs sums the nodes'.
func (gr *Graph) MACs(in []int) int64 {
	shapes, err := gr.shapes(in)
	if err != nil {
		return 0
	}
	var total int64
	for _, n := range gr.Nodes {
		if c, ok := n.Layer.(Coster); ok {
			k := n.Inputs[0]
			s := in
			if k >= 0 {
				s = shapes[k]
			}
			total += c.MACs(s)
		}
	}
	return total
}
