package deconv

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/convscope/convscope/nn"
)

// Method is one attribution method. Each lives in its own file, registers
// itself there (register) and has its test beside it.
type Method interface {
	// Name is the method's name in the CLI, the protocol and the page.
	Name() string
	// About is one line for the page: who proposed it and what it shows.
	About() string
	// Heat reports a map over the input's area (Grad-CAM, occlusion),
	// drawn as a heat map, rather than a picture shaped like the input.
	Heat() bool
	// Long reports a method that runs many passes (a server runs it in
	// the background, with progress); the others walk back once.
	Long() bool
	// explain computes the map for a job whose goal is resolved.
	explain(ctx context.Context, j *job) (*nn.Tensor, error)
}

// registry holds every method in the order the page and the CLI list them.
var registry []Method

// order is where each method's name sorts in the registry; a method not
// listed comes after these, in the order its file registers it.
var order = []string{"deconvnet", "gradient", "guided", "gradcam", "ig", "smoothgrad", "occlusion"}

func register(m Method) {
	registry = append(registry, m)
	rank := func(m Method) int {
		if i := slices.Index(order, m.Name()); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(registry, func(a, b Method) int { return rank(a) - rank(b) })
}

// Methods lists every method.
func Methods() []Method { return slices.Clone(registry) }

// MethodNames lists the methods' names.
func MethodNames() []string {
	names := make([]string, len(registry))
	for i, m := range registry {
		names[i] = m.Name()
	}
	return names
}

// Lookup finds a method by name.
func Lookup(name string) (Method, error) {
	for _, m := range registry {
		if m.Name() == name {
			return m, nil
		}
	}
	return nil, fmt.Errorf("unknown method %q (want one of %v)", name, MethodNames())
}

// Goal is what an attribution explains: one unit of a layer (Layer set),
// or a class's score (Layer empty). Grad-CAM explains Class at Layer, the
// layer whose maps it weighs (by default the last with maps larger than
// 1x1).
type Goal struct {
	// Layer is a layer's dotted name anywhere in the network.
	Layer string
	// Channel is the unit's feature map (or vector element).
	Channel int
	// At is the unit's position; nil picks the channel's strongest.
	At *Pos
	// Class is the class whose logit (softmax probability for occlusion)
	// is explained; -1 is the predicted one.
	Class int
}

// Pos is a position (row, column) in a layer's maps.
type Pos struct{ Y, X int }

// Options are the methods' parameters; zero values take the defaults.
type Options struct {
	// Steps is integrated gradients' number of steps M (32).
	Steps int
	// Samples is SmoothGrad's number of noisy copies (25).
	Samples int
	// Noise is SmoothGrad's standard deviation as a fraction of the
	// input's range, max - min (0.15).
	Noise float64
	// Seed seeds SmoothGrad's noise (0 is a seed like any other).
	Seed uint64
	// Window and Stride are occlusion's square side and step in input
	// pixels (a seventh of the input's height, at least 1; half the
	// window, at least 1).
	Window, Stride int
	// Batch is how many inputs one forward pass carries for the methods
	// that run many (ig, smoothgrad, occlusion) (8).
	Batch int
}

// Option limits, so that no request can ask for unbounded work.
const (
	MaxSteps   = 1024
	MaxSamples = 1024
	MaxBatch   = 256
)

func (o Options) withDefaults(h, w int) (Options, error) {
	if o.Steps == 0 {
		o.Steps = 32
	}
	if o.Samples == 0 {
		o.Samples = 25
	}
	if o.Noise == 0 {
		o.Noise = 0.15
	}
	if o.Window == 0 {
		o.Window = max(1, (h+3)/7)
	}
	if o.Stride == 0 {
		o.Stride = max(1, o.Window/2)
	}
	if o.Batch == 0 {
		o.Batch = 8
	}
	switch {
	case o.Steps < 1 || o.Steps > MaxSteps:
		return o, fmt.Errorf("steps %d: want 1 to %d", o.Steps, MaxSteps)
	case o.Samples < 1 || o.Samples > MaxSamples:
		return o, fmt.Errorf("samples %d: want 1 to %d", o.Samples, MaxSamples)
	case !(o.Noise > 0 && o.Noise <= 10):
		return o, fmt.Errorf("noise %g: want more than 0 and at most 10 (a fraction of the input's range)", o.Noise)
	case o.Window < 1 || o.Window > min(h, w):
		return o, fmt.Errorf("window %d: want 1 to %d (the input is %dx%d)", o.Window, min(h, w), h, w)
	case o.Stride < 1 || o.Stride > max(h, w):
		return o, fmt.Errorf("stride %d: want 1 to %d", o.Stride, max(h, w))
	case o.Batch < 1 || o.Batch > MaxBatch:
		return o, fmt.Errorf("batch %d: want 1 to %d", o.Batch, MaxBatch)
	}
	return o, nil
}

// Model is what the methods run: the network, and which of its layers
// keep their channels last.
type Model struct {
	Net *nn.Sequential
	// ChannelsLast reports a layer whose output is (N,H,W,C)
	// (zoo.LayerInfo.Layout "hwc"); nil means none.
	ChannelsLast func(layer string) bool
}

// Progress reports a long method's advance: Done of Total passes, and the
// map so far where it fills in part by part (occlusion: rows not yet
// computed are zero).
type Progress struct {
	Done, Total int
	Partial     *nn.Tensor
}

// Result is an attribution and what it explains.
type Result struct {
	Method string
	// Map is shaped like the input (1,C,H,W), or for a heat method (1,1,h,w):
	// Grad-CAM at its layer's resolution, occlusion one value per square.
	Map *nn.Tensor
	// Layer is the unit's layer, or Grad-CAM's; empty for a class.
	Layer string
	// Unit is the unit explained (unit goals).
	Unit Unit
	// Strongest says the unit was picked as its channel's strongest.
	Strongest bool
	// Class is the class explained; -1 for a unit.
	Class int
	// Value is the unit's activation or the class's logit on the input.
	Value float32
}

// job is one attribution under way: the goal resolved on the input's pass.
type job struct {
	model    Model
	x        *nn.Tensor // (1,C,H,W)
	tr       *nn.Trace  // x's pass
	opt      Options
	progress func(Progress)
	// the goal: a unit (target set) or a class (class >= 0 and no target)
	target    *Target
	unit      Unit
	strongest bool
	class     int
	// camLayer is Grad-CAM's layer.
	camLayer *Target
}

// Explain runs method on the input x (1,C,H,W) of model to explain goal.
// tr is x's forward pass if the caller has it (a session keeps one), nil to
// run it here. progress, if not nil, hears of long methods' advance; ctx
// stops them between passes.
func Explain(ctx context.Context, model Model, x *nn.Tensor, tr *nn.Trace, method string, goal Goal, opt Options, progress func(Progress)) (*Result, error) {
	m, err := Lookup(method)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) != 4 || x.Shape[0] != 1 {
		return nil, fmt.Errorf("attribution wants one (1,C,H,W) input, not %s", nn.ShapeString(x.Shape))
	}
	if opt, err = opt.withDefaults(x.Shape[2], x.Shape[3]); err != nil {
		return nil, err
	}
	if tr == nil {
		if tr, err = model.Net.Forward(x, &nn.Context{}, nil); err != nil {
			return nil, err
		}
	}
	j := &job{model: model, x: x, tr: tr, opt: opt, progress: progress, class: -1}
	if err := j.resolve(m, goal); err != nil {
		return nil, err
	}
	out, err := m.explain(ctx, j)
	if err != nil {
		return nil, err
	}
	r := &Result{Method: m.Name(), Map: out, Class: j.class, Unit: j.unit, Strongest: j.strongest}
	switch {
	case j.target != nil:
		r.Layer, r.Class = j.target.Name, -1
		i, _ := j.target.Index(j.unit)
		r.Value = j.target.Step.Out.Data[i]
	default:
		r.Value = tr.Output().Data[j.class]
		if j.camLayer != nil {
			r.Layer = j.camLayer.Name
		}
	}
	return r, nil
}

// find locates a layer in tr with its layout.
func (j *job) find(tr *nn.Trace, name string) (Target, error) {
	t, err := Find(tr, name)
	if err == nil && j.model.ChannelsLast != nil {
		t.ChannelsLast = j.model.ChannelsLast(name)
	}
	return t, err
}

// resolve fixes the goal on the input's pass: the unit (its strongest
// position if none is given) or the class (the predicted one if -1).
func (j *job) resolve(m Method, g Goal) error {
	logits := j.tr.Output()
	if g.Class >= logits.Len() || g.Class < -1 {
		return fmt.Errorf("class %d: the model has %d classes", g.Class, logits.Len())
	}
	if m.Name() == "gradcam" {
		return j.resolveCAM(g)
	}
	if g.Layer == "" {
		j.class = g.Class
		if j.class < 0 {
			j.class = nn.ArgMax(logits.Data)
		}
		return nil
	}
	t, err := j.find(j.tr, g.Layer)
	if err != nil {
		return err
	}
	j.target = &t
	if g.At == nil {
		j.unit, err = StrongestAt(t, g.Channel)
		j.strongest = true
		return err
	}
	j.unit = Unit{Channel: g.Channel, Y: g.At.Y, X: g.At.X}
	_, err = t.Index(j.unit)
	return err
}

// scalar is the goal's value in sample b of a pass (the class's logit or
// the unit's activation) and where to seed a backward walk for it.
func (j *job) scalar(tr *nn.Trace, b int) (path []int, index int, err error) {
	if j.target == nil {
		last := len(tr.Steps) - 1
		return []int{last}, b*tr.Output().Len()/tr.Output().Shape[0] + j.class, nil
	}
	t, err := j.find(tr, j.target.Name)
	if err != nil {
		return nil, 0, err
	}
	i, err := t.Index(j.unit)
	if err != nil {
		return nil, 0, err
	}
	return t.Path, b*t.Step.Out.Len()/t.Step.Out.Shape[0] + i, nil
}

// gradients is the gradient of the goal's value in each sample of xs
// (N,C,H,W) with respect to that sample (samples do not mix in an
// evaluation pass).
func (j *job) gradients(xs *nn.Tensor) (*nn.Tensor, error) {
	tr, err := j.model.Net.Forward(xs, &nn.Context{}, nil)
	if err != nil {
		return nil, err
	}
	var path []int
	var seed *nn.Tensor
	for b := range xs.Shape[0] {
		p, i, err := j.scalar(tr, b)
		if err != nil {
			return nil, err
		}
		if seed == nil {
			path = p
			st := stepAt(tr, p)
			seed = nn.New(st.Out.Shape...)
		}
		seed.Data[i] = 1
	}
	return j.model.Net.BackwardFromPath(tr, path, seed, nn.Gradient, nil)
}

// gradientSum is the sum, over count copies of the input made by fill
// (fill(k, dst) writes copy k into dst), of the goal's gradient with
// respect to each copy, in float64; the copies run in batches.
func (j *job) gradientSum(ctx context.Context, count int, fill func(k int, dst []float32)) ([]float64, error) {
	n := j.x.Len()
	sum := make([]float64, n)
	err := j.batches(ctx, count, func(from, to int) error {
		xs := nn.New(append([]int{to - from}, j.x.Shape[1:]...)...)
		for b := range to - from {
			fill(from+b, xs.Data[b*n:(b+1)*n])
		}
		g, err := j.gradients(xs)
		if err != nil {
			return err
		}
		for i, v := range g.Data {
			sum[i%n] += float64(v)
		}
		return nil
	}, nil)
	return sum, err
}

// stepAt is the step at a Locate path.
func stepAt(tr *nn.Trace, path []int) *nn.Step {
	st := &tr.Steps[path[0]]
	for _, k := range path[1:] {
		st = st.Parts()[k]
	}
	return st
}

// batches calls fn with consecutive ranges [from, to) of n items, at most
// opt.Batch each, reporting progress and stopping when ctx ends.
func (j *job) batches(ctx context.Context, n int, fn func(from, to int) error, partial func() *nn.Tensor) error {
	for from := 0; from < n; from += j.opt.Batch {
		if err := ctx.Err(); err != nil {
			return errors.Join(errors.New("attribution stopped"), err)
		}
		to := min(n, from+j.opt.Batch)
		if err := fn(from, to); err != nil {
			return err
		}
		if j.progress != nil {
			p := Progress{Done: to, Total: n}
			if partial != nil {
				p.Partial = partial()
			}
			j.progress(p)
		}
	}
	return nil
}
