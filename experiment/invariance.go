package experiment

// Invariance: Zeiler & Fergus' Figure 5. A picture is shifted, scaled or
// rotated step by step, and at each step we measure how far a layer's
// feature vector has moved from the untransformed picture's, and what is
// left of the true class's probability. The transforms are plain inverse
// mapping with bilinear sampling, one pixel at a time; no resampling
// filter, no reflection padding.

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// The transform kinds of Figure 5.
const (
	Translate = "translate"
	Scale     = "scale"
	Rotate    = "rotate"
)

// Kinds lists the transform kinds, in the paper's order.
var Kinds = []string{Translate, Scale, Rotate}

// Transform is one geometric change of a picture. Kind is "translate"
// (Amount: the horizontal shift as a fraction of the width, positive to the
// right; the paper goes from -0.3 to 0.3), "scale" (Amount: the factor
// about the centre, 0.5 to 1.5) or "rotate" (Amount: degrees about the
// centre, counter-clockwise as seen on the screen, 0 to 360).
type Transform struct {
	Kind   string  `json:"kind"`
	Amount float64 `json:"amount"`
}

// CheckKind returns an error naming kind unless it is one of Kinds.
func CheckKind(kind string) error {
	for _, k := range Kinds {
		if k == kind {
			return nil
		}
	}
	return fmt.Errorf("unknown transform %q (want translate, scale or rotate)", kind)
}

// Sweep is the paper's range for kind in steps equally spaced amounts,
// both ends included: translate -0.3..0.3, scale 0.5..1.5, rotate 0..360.
// An odd steps puts the untransformed point (0, 1, 0) in the middle of
// translate and scale; rotate always starts at 0. It returns nil for an
// unknown kind or steps < 2.
func Sweep(kind string, steps int) []Transform {
	var lo, hi float64
	switch kind {
	case Translate:
		lo, hi = -0.3, 0.3
	case Scale:
		lo, hi = 0.5, 1.5
	case Rotate:
		lo, hi = 0, 360
	default:
		return nil
	}
	if steps < 2 {
		return nil
	}
	out := make([]Transform, steps)
	for i := range out {
		// Mixing the ends by weight hits the middle and the ends exactly;
		// rounding to 12 decimals drops the binary noise in between
		// (-0.15, not -0.14999999999999997).
		f := float64(i) / float64(steps-1)
		a := math.Round((lo*(1-f)+hi*f)*1e12) / 1e12
		out[i] = Transform{Kind: kind, Amount: a}
	}
	return out
}

// Apply returns a transformed copy of x (N,C,H,W), a normalised input:
// output pixel p (row y, column x, centres at integers) takes the input
// at the point q that the transform moves to p, sampled bilinearly from
// its four neighbours. Neighbours outside the picture count as 0, which in
// normalised space is the dataset's mean colour: what comes in from beyond
// the edges is mean grey, fading into the picture over one pixel (as
// PyTorch's grid_sample with padding_mode "zeros" and align_corners=True).
// With c the centre ((W-1)/2, (H-1)/2):
//
//	translate a:  q = p - (a·W, 0)
//	scale s:      q = c + (p - c)/s
//	rotate θ:     q = c + R(θ)ᵀ(p - c), R(θ) turning counter-clockwise on screen
//
// An identity (translate 0, scale 1, rotate 0 or 360) returns exactly x's
// values. Apply panics on an unknown kind or a scale ≤ 0 (CheckKind first).
func Apply(x *nn.Tensor, t Transform) *nn.Tensor {
	h, w := x.Shape[2], x.Shape[3]
	from := sourceOf(t, h, w)
	out := nn.New(x.Shape...)
	for plane := 0; plane < x.Shape[0]*x.Shape[1]; plane++ {
		src := x.Data[plane*h*w : (plane+1)*h*w]
		dst := out.Data[plane*h*w : (plane+1)*h*w]
		for y := range h {
			for xx := range w {
				sx, sy := from(float64(xx), float64(y))
				dst[y*w+xx] = bilinear(src, h, w, sx, sy)
			}
		}
	}
	return out
}

// sourceOf returns the inverse map of t on an h×w picture: for an output
// pixel (x, y), the input point it samples.
func sourceOf(t Transform, h, w int) func(x, y float64) (float64, float64) {
	cx, cy := float64(w-1)/2, float64(h-1)/2
	switch t.Kind {
	case Translate:
		dx := t.Amount * float64(w)
		return func(x, y float64) (float64, float64) { return x - dx, y }
	case Scale:
		if !(t.Amount > 0) {
			panic(fmt.Sprintf("experiment.Apply: scale %v, want > 0", t.Amount))
		}
		s := t.Amount
		return func(x, y float64) (float64, float64) { return cx + (x-cx)/s, cy + (y-cy)/s }
	case Rotate:
		// 360 and 0 are the same turn; Mod makes them the same numbers too.
		sin, cos := math.Sincos(math.Mod(t.Amount, 360) * math.Pi / 180)
		return func(x, y float64) (float64, float64) {
			dx, dy := x-cx, y-cy
			return cx + cos*dx - sin*dy, cy + sin*dx + cos*dy
		}
	}
	panic(fmt.Sprintf("experiment.Apply: %v", CheckKind(t.Kind)))
}

// bilinear samples the h×w plane p at (x, y), with 0 outside it.
func bilinear(p []float32, h, w int, x, y float64) float32 {
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := x-x0, y-y0
	ix, iy := int(x0), int(y0)
	at := func(r, c int) float64 {
		if r < 0 || r >= h || c < 0 || c >= w {
			return 0
		}
		return float64(p[r*w+c])
	}
	v := (1-fy)*((1-fx)*at(iy, ix)+fx*at(iy, ix+1)) + fy*((1-fx)*at(iy+1, ix)+fx*at(iy+1, ix+1))
	return float32(v)
}

// InvarianceResult is Figure 5 for one picture: per transform (Amounts,
// in the order given), each layer's distance from the untransformed
// picture's feature vector, and the probability of the label.
type InvarianceResult struct {
	// Kind is the transforms' kind, "mixed" when they have several.
	Kind    string            `json:"kind"`
	Amounts []float64         `json:"amounts"`
	Layers  []LayerInvariance `json:"layers"`
	// Probability is the softmax probability of the label, per transform.
	Probability []float64 `json:"probability"`
	// Plain is the label's probability for the untransformed picture.
	Plain float64 `json:"plain"`
}

// LayerInvariance is one layer's curve of Figure 5: Distance is the
// Euclidean distance ‖f(T(x)) − f(x)‖ between the layer's whole output for
// the transformed and the untransformed picture, Relative the same divided
// by ‖f(x)‖ (0 where f(x) is all zeros and there is no scale to relate to).
type LayerInvariance struct {
	Layer    string    `json:"layer"`
	Distance []float64 `json:"distance"`
	Relative []float64 `json:"relative"`
}

// Invariance computes Figure 5 for one picture x (1,C,H,W), normalised, and
// its class label: one forward pass of x, then one of Apply(x, t) for each
// t in ts, batch at a time (batch < 1: 16). ctx is checked between
// batches, and progress, if not nil, hears how many transforms are done.
// layers are dotted names (nn.Trace.Locate), nested ones too.
//
// A transform that leaves the picture as it is (translate 0, scale 1, a
// rotation by a multiple of 360°) is not run again: its entries are the
// untransformed pass's, at distance exactly 0. Run inside a batch, the same
// input would come out a few ulps away (a product's blocking changes with
// the batch size), and the curve would not start where the paper's does.
func Invariance(ctx context.Context, net *nn.Sequential, x *nn.Tensor, label int, layers []string,
	ts []Transform, batch int, progress func(done, total int)) (*InvarianceResult, error) {
	if err := checkInvariance(x, layers, ts); err != nil {
		return nil, err
	}
	plain, err := plainPass(net, x, label, layers)
	if err != nil {
		return nil, err
	}
	r := newInvarianceResult(ts, layers)
	r.Plain = plain.probability
	var todo []int // the transforms that change the picture
	for i, t := range ts {
		if isIdentity(t) {
			r.Probability[i] = plain.probability // distances are already 0
			continue
		}
		todo = append(todo, i)
	}
	fill := func(i int, dst []float32) { copy(dst, Apply(x, ts[todo[i]]).Data) }
	seen := func(tr *nn.Trace, from, to int) error {
		for b := range to - from {
			if err := r.record(tr, b, todo[from+b], plain, label); err != nil {
				return err
			}
		}
		return nil
	}
	var done func(int, int)
	if progress != nil {
		skipped := len(ts) - len(todo)
		done = func(d, _ int) { progress(skipped+d, len(ts)) }
	}
	if err := forwardEach(ctx, net, x.Shape[1:], len(todo), batch, fill, seen, done); err != nil {
		return nil, err
	}
	return r, nil
}

// isIdentity reports whether t leaves every picture as it is.
func isIdentity(t Transform) bool {
	switch t.Kind {
	case Translate:
		return t.Amount == 0
	case Scale:
		return t.Amount == 1
	case Rotate:
		return math.Mod(t.Amount, 360) == 0
	}
	return false
}

// checkInvariance refuses what Invariance cannot run before any pass.
func checkInvariance(x *nn.Tensor, layers []string, ts []Transform) error {
	if err := checkOneSample(x, "the picture"); err != nil {
		return err
	}
	if len(layers) == 0 {
		return fmt.Errorf("experiment: invariance needs at least one layer")
	}
	if len(ts) == 0 {
		return fmt.Errorf("experiment: invariance needs at least one transform")
	}
	for _, t := range ts {
		if err := CheckKind(t.Kind); err != nil {
			return fmt.Errorf("experiment: %w", err)
		}
		if t.Kind == Scale && !(t.Amount > 0) {
			return fmt.Errorf("experiment: scale factor %v, want > 0", t.Amount)
		}
	}
	return nil
}

// plainFeatures is what the untransformed pass gives: each layer's feature
// vector (a copy) and norm, and the label's probability.
type plainFeatures struct {
	features    [][]float32
	norms       []float64
	probability float64
}

// plainPass runs x alone and keeps what the distances are measured from;
// an unknown layer or label is an error here, before the sweep.
func plainPass(net *nn.Sequential, x *nn.Tensor, label int, layers []string) (plainFeatures, error) {
	tr, err := net.Forward(x, &nn.Context{}, nil)
	if err != nil {
		return plainFeatures{}, err
	}
	var ref plainFeatures
	for _, name := range layers {
		f, err := layerSample(tr, name, 0)
		if err != nil {
			return plainFeatures{}, err
		}
		ref.features = append(ref.features, append([]float32(nil), f...))
		ref.norms = append(ref.norms, euclideanNorm(f))
	}
	ref.probability, err = classProbability(tr.Output(), 0, label)
	return ref, err
}

// newInvarianceResult makes the result's slices, one entry per transform.
func newInvarianceResult(ts []Transform, layers []string) *InvarianceResult {
	r := &InvarianceResult{Kind: ts[0].Kind, Amounts: make([]float64, len(ts)), Probability: make([]float64, len(ts))}
	for i, t := range ts {
		r.Amounts[i] = t.Amount
		if t.Kind != r.Kind {
			r.Kind = "mixed"
		}
	}
	for _, name := range layers {
		r.Layers = append(r.Layers, LayerInvariance{Layer: name, Distance: make([]float64, len(ts)), Relative: make([]float64, len(ts))})
	}
	return r
}

// record fills transform i's entries from sample b of a batch's trace.
func (r *InvarianceResult) record(tr *nn.Trace, b, i int, ref plainFeatures, label int) error {
	for l := range r.Layers {
		f, err := layerSample(tr, r.Layers[l].Layer, b)
		if err != nil {
			return err
		}
		d := euclidean(f, ref.features[l])
		r.Layers[l].Distance[i] = d
		if ref.norms[l] > 0 {
			r.Layers[l].Relative[i] = d / ref.norms[l]
		}
	}
	p, err := classProbability(tr.Output(), b, label)
	r.Probability[i] = p
	return err
}

// euclidean is the Euclidean distance between a and b, summed in float64.
func euclidean(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

// euclideanNorm is the Euclidean norm of a, summed in float64.
func euclideanNorm(a []float32) float64 {
	var s float64
	for _, v := range a {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}

// AxisLabel names a sweep's x axis for a kind of transform.
func AxisLabel(kind string) string {
	return map[string]string{
		Translate: "horizontal shift (fraction of the width)",
		Scale:     "scale factor",
		Rotate:    "rotation (degrees)",
	}[kind]
}

// DefaultLayers are the layers Figures 5 and 8 measure when none are
// named: the first convolution-like top-level layer and the top-level
// layer before the output (the last hidden one), the paper's layers 1
// and 7; one layer when those are the same.
func DefaultLayers(sum *zoo.Summary) []string {
	top := sum.Top()
	if len(top) == 0 {
		return nil
	}
	first := top[0].Name
	for _, l := range top {
		if strings.Contains(l.Type, "Conv") {
			first = l.Name
			break
		}
	}
	if len(top) < 2 || top[len(top)-2].Name == first {
		return []string{first}
	}
	return []string{first, top[len(top)-2].Name}
}
