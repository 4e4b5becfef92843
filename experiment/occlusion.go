package experiment

// Occlusion: Zeiler & Fergus' Figure 7. A grey square slides over the
// picture; with the square at each place one forward pass records what is
// left of the strongest feature map of a layer, of the true class's
// probability, and which class wins. The square and its grid are deconv's
// occlusion method's (deconv.OcclusionGrid); this file adds the paper's
// other panels, not another way of occluding.

import (
	"context"
	"fmt"
	"math"

	"github.com/convscope/convscope/deconv"
	"github.com/convscope/convscope/nn"
)

// OcclusionOptions are Occlusion's parameters. Channel and Label take -1
// for "choose for me"; 0 is a channel and a class like any other.
type OcclusionOptions struct {
	// Layer is the feature map's layer, by its dotted name (required).
	Layer string
	// Channel is the feature map watched. -1 picks the paper's "strongest
	// feature map": the channel holding the single largest activation of
	// the layer on the unoccluded input (the first such channel on a tie).
	Channel int
	// Label is the true class whose probability panel (d) shows; -1 takes
	// the model's top class on the unoccluded input.
	Label int
	// Window and Stride are the square's side and step in input pixels; 0
	// takes deconv's defaults: max(1, (H+3)/7) and max(1, Window/2).
	Window, Stride int
	// Batch is how many occluded copies one forward pass carries (16).
	Batch int
	// ChannelsLast says the layer's output is (N,H,W,C) (zoo.LayerInfo
	// Layout "hwc", inside a ConvNeXt block).
	ChannelsLast bool
	// Progress, if not nil, hears after each batch how many square
	// positions are done, of rows*cols.
	Progress func(done, total int)
	// Partial, if not nil, is called after each batch (after Progress) with
	// the result being filled and the number of positions done: entries
	// [0, done) of Activation, Probability and Predicted, row-major, are
	// final, the rest still zero; Plain, the unit and Projection are set.
	// It is the value Occlusion will return and later batches write into
	// its slices, so read it during the call or copy what you keep.
	Partial func(r *OcclusionResult, done int)
}

// MapPos is a position (row, column) in a layer's feature map.
type MapPos struct {
	Y int `json:"y"`
	X int `json:"x"`
}

// OcclusionPlain is what the unoccluded input gives: the feature map's
// total activation, the label's probability and the top class.
type OcclusionPlain struct {
	Activation  float32 `json:"activation"`
	Probability float32 `json:"probability"`
	Predicted   int     `json:"predicted"`
}

// OcclusionResult is Figure 7 for one picture. Activation, Probability
// and Predicted hold one entry per square position, Rows × Cols in
// row-major order: position (i, j) is the square of input rows
// [i·Stride, i·Stride+Window) and columns [j·Stride, j·Stride+Window).
type OcclusionResult struct {
	Layer   string `json:"layer"`
	Channel int    `json:"channel"`
	// Unit is the channel's strongest unit on the unoccluded input, the
	// one Projection shows.
	Unit   MapPos `json:"unit"`
	Label  int    `json:"label"`
	Window int    `json:"window"`
	Stride int    `json:"stride"`
	Rows   int    `json:"rows"`
	Cols   int    `json:"cols"`
	// Activation is panel (b): the channel's map summed over all its
	// units (for a vector layer, the one unit), per position.
	Activation []float32 `json:"activation"`
	// Probability is panel (d): the softmax probability of Label.
	Probability []float32 `json:"probability"`
	// Predicted is panel (e): the most probable class (the first on a tie).
	Predicted []int          `json:"predicted"`
	Plain     OcclusionPlain `json:"plain"`
	// Projection is panel (c): Zeiler & Fergus' deconvnet projection of
	// Unit on the unoccluded input, (1,C,H,W) like the input.
	Projection *nn.Tensor `json:"-"`
}

// Occlusion computes Figure 7's panels for one normalised picture x
// (1,C,H,W). First one pass of x as it is resolves the channel, the unit,
// the label and the plain values, and the deconvnet projects the unit;
// then, for every square position, a copy of x with the square set to 0
// (the dataset's mean colour in normalised space) in every channel runs
// forward, opt.Batch copies a pass, and its entries are recorded. Only one
// batch is in memory at a time; ctx stops the sweep between batches.
func Occlusion(ctx context.Context, net *nn.Sequential, x *nn.Tensor, opt OcclusionOptions) (*OcclusionResult, error) {
	if err := checkOneSample(x, "the picture"); err != nil {
		return nil, err
	}
	opt, err := occlusionDefaults(opt, x.Shape[2], x.Shape[3])
	if err != nil {
		return nil, err
	}
	tr, err := net.Forward(x, &nn.Context{}, nil)
	if err != nil {
		return nil, err
	}
	r, err := occlusionPlain(tr, opt)
	if err != nil {
		return nil, err
	}
	r.Rows, r.Cols = deconv.OcclusionGrid(x.Shape[2], x.Shape[3], r.Window, r.Stride)
	n := r.Rows * r.Cols
	r.Activation, r.Probability, r.Predicted = make([]float32, n), make([]float32, n), make([]int, n)

	model := deconv.Model{Net: net, ChannelsLast: func(l string) bool { return opt.ChannelsLast && l == opt.Layer }}
	goal := deconv.Goal{Layer: r.Layer, Channel: r.Channel, At: &deconv.Pos{Y: r.Unit.Y, X: r.Unit.X}}
	proj, err := deconv.Explain(ctx, model, x, tr, "deconvnet", goal, deconv.Options{}, nil)
	if err != nil {
		return nil, err
	}
	r.Projection = proj.Map

	fill := func(i int, dst []float32) {
		copy(dst, x.Data)
		occlude(dst, x.Shape[1:], i/r.Cols*r.Stride, i%r.Cols*r.Stride, r.Window)
	}
	seen := func(tr *nn.Trace, from, to int) error {
		for b := range to - from {
			if err := r.record(tr, b, from+b, opt.ChannelsLast); err != nil {
				return err
			}
		}
		return nil
	}
	progress := func(done, total int) {
		if opt.Progress != nil {
			opt.Progress(done, total)
		}
		if opt.Partial != nil {
			opt.Partial(r, done)
		}
	}
	if err := forwardEach(ctx, net, x.Shape[1:], n, opt.Batch, fill, seen, progress); err != nil {
		return nil, err
	}
	return r, nil
}

// occlusionDefaults fills in the window, stride and batch and refuses
// what cannot run, before any pass.
func occlusionDefaults(opt OcclusionOptions, h, w int) (OcclusionOptions, error) {
	if opt.Layer == "" {
		return opt, fmt.Errorf("experiment: occlusion needs a layer")
	}
	if opt.Window == 0 {
		opt.Window = max(1, (h+3)/7)
	}
	if opt.Stride == 0 {
		opt.Stride = max(1, opt.Window/2)
	}
	if opt.Batch == 0 {
		opt.Batch = forwardBatch
	}
	switch {
	case opt.Window < 1 || opt.Window > min(h, w):
		return opt, fmt.Errorf("experiment: occlusion window %d, want 1 to %d (the input is %dx%d)", opt.Window, min(h, w), h, w)
	case opt.Stride < 1 || opt.Stride > max(h, w):
		return opt, fmt.Errorf("experiment: occlusion stride %d, want 1 to %d", opt.Stride, max(h, w))
	case opt.Batch < 1 || opt.Batch > deconv.MaxBatch:
		return opt, fmt.Errorf("experiment: occlusion batch %d, want 1 to %d", opt.Batch, deconv.MaxBatch)
	case opt.Channel < -1:
		return opt, fmt.Errorf("experiment: channel %d, want -1 (the strongest) or a channel number", opt.Channel)
	case opt.Label < -1:
		return opt, fmt.Errorf("experiment: label %d, want -1 (the top class) or a class number", opt.Label)
	}
	return opt, nil
}

// occlusionPlain reads the unoccluded pass tr: the layer, the channel (the
// strongest if opt.Channel is -1), its strongest unit, the label (the top
// class if -1) and the plain values; the grid is left to the caller.
func occlusionPlain(tr *nn.Trace, opt OcclusionOptions) (*OcclusionResult, error) {
	t, err := deconv.Find(tr, opt.Layer)
	if err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	t.ChannelsLast = opt.ChannelsLast
	c, _, _, err := t.Planes()
	if err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	channel := opt.Channel
	if channel == -1 {
		channel = strongestChannel(t.Step.Out.Data, c, opt.ChannelsLast)
	}
	if channel >= c {
		return nil, fmt.Errorf("experiment: channel %d of %s, which has channels 0 to %d", channel, opt.Layer, c-1)
	}
	unit, err := deconv.StrongestAt(t, channel)
	if err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	logits := tr.Output()
	if len(logits.Shape) != 2 {
		return nil, fmt.Errorf("experiment: the network's output is %s, want logits (1,K)", nn.ShapeString(logits.Shape))
	}
	label := opt.Label
	if label == -1 {
		label = nn.ArgMax(logits.Data)
	}
	if label >= logits.Shape[1] {
		return nil, fmt.Errorf("experiment: label %d, the model has classes 0 to %d", label, logits.Shape[1]-1)
	}
	p, err := classProbability(logits, 0, label)
	if err != nil {
		return nil, err
	}
	r := &OcclusionResult{Layer: opt.Layer, Channel: channel, Unit: MapPos{Y: unit.Y, X: unit.X}, Label: label,
		Window: opt.Window, Stride: opt.Stride}
	r.Plain = OcclusionPlain{Activation: mapSum(t.Step.Out, 0, channel, opt.ChannelsLast),
		Probability: float32(p), Predicted: nn.ArgMax(logits.Data)}
	return r, nil
}

// strongestChannel is the channel of one sample's output data (c channels,
// first or last) holding its largest value, the lowest on a tie.
func strongestChannel(data []float32, c int, channelsLast bool) int {
	hw := len(data) / c
	best, at := float32(math.Inf(-1)), 0
	for ch := range c {
		for k := range hw {
			i := ch*hw + k
			if channelsLast {
				i = k*c + ch
			}
			if v := data[i]; v > best {
				best, at = v, ch
			}
		}
	}
	return at
}

// mapSum is channel ch of sample b of a layer's output out, summed over
// its units in float64: the feature map's total activation.
func mapSum(out *nn.Tensor, b, ch int, channelsLast bool) float32 {
	per := out.Len() / out.Shape[0]
	data := out.Data[b*per : (b+1)*per]
	var s float64
	switch {
	case channelsLast:
		c := out.Shape[3]
		for i := ch; i < per; i += c {
			s += float64(data[i])
		}
	case len(out.Shape) == 4:
		hw := out.Shape[2] * out.Shape[3]
		for _, v := range data[ch*hw : (ch+1)*hw] {
			s += float64(v)
		}
	default: // a vector: the unit itself
		s = float64(data[ch])
	}
	return float32(s)
}

// occlude sets the window×window square at row y0, column x0 to 0 in
// every channel of one sample's data of shape (C,H,W).
func occlude(data []float32, shape []int, y0, x0, window int) {
	c, h, w := shape[0], shape[1], shape[2]
	for ch := range c {
		for y := y0; y < y0+window; y++ {
			clear(data[(ch*h+y)*w+x0 : (ch*h+y)*w+x0+window])
		}
	}
}

// record fills position i's entries from sample b of a batch's trace.
func (r *OcclusionResult) record(tr *nn.Trace, b, i int, channelsLast bool) error {
	_, st, ok := tr.Locate(r.Layer)
	if !ok {
		return fmt.Errorf("experiment: no layer %q in the occluded pass", r.Layer)
	}
	r.Activation[i] = mapSum(st.Out, b, r.Channel, channelsLast)
	logits := tr.Output()
	p, err := classProbability(logits, b, r.Label)
	if err != nil {
		return err
	}
	r.Probability[i] = float32(p)
	k := logits.Shape[1]
	r.Predicted[i] = nn.ArgMax(logits.Data[b*k : (b+1)*k])
	return nil
}
