// Package arith shows how one unit of a layer was computed, with the real
// numbers of one forward pass, as CNN Explainer's formula view does: for a
// convolution the input window under the kernel, each weight, each product
// and their sum plus the bias; for a pooling layer the window and, for a
// max, the switch it kept; for an activation or a batch norm the formula
// applied to the one input. The sum is worked out here, in float64, from
// the layer's input and weights, and set beside the engine's own output
// for the unit, so a reader (and a test) sees they agree.
package arith

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/convscope/convscope/nn"
)

// Term is one input of a unit: where it is in the layer's input, its
// value, and for a convolution or a linear layer the weight it meets and
// their product.
type Term struct {
	// Channel, Y and X locate the input (a vector's index in Channel, Y
	// and X 0); Padding marks a tap on the zero padding outside the map.
	Channel int  `json:"channel"`
	Y       int  `json:"y"`
	X       int  `json:"x"`
	Padding bool `json:"padding,omitempty"`
	// Ky and Kx are the tap's place in the kernel or pooling window.
	Ky      int     `json:"ky"`
	Kx      int     `json:"kx"`
	Value   float32 `json:"value"`
	Weight  float32 `json:"weight"`
	Product float64 `json:"product"`
}

// Unit is how one unit was computed.
type Unit struct {
	Layer string `json:"layer"`
	Type  string `json:"layerType"`
	// Kind is "weighted" (a convolution or a linear layer: the sum of the
	// terms' products plus Bias), "max" or "average" (a pooling window),
	// or "elementwise" (a formula of one input: an activation, a norm).
	Kind string `json:"kind"`
	// Channel, Y and X are the unit in the layer's output.
	Channel int `json:"channel"`
	Y       int `json:"y"`
	X       int `json:"x"`
	// Terms are the inputs the unit reads, in the kernel's order: input
	// channel, then row, then column.
	Terms []Term `json:"terms"`
	// Bias is added to a weighted sum (0 when the layer has none).
	Bias    float32 `json:"bias"`
	HasBias bool    `json:"hasBias"`
	// Switch is, for a max pool, the index in Terms of the largest input:
	// the switch the deconvnet's unpooling uses.
	Switch int `json:"switch"`
	// Formula says what was applied: "Σ w·x + b", "max", "mean of 9",
	// "max(0, x)", "(x − μ) / √(σ² + ε) · γ + β".
	Formula string `json:"formula"`
	// Result is the unit's value worked out here; Engine the value the
	// engine's forward pass gave it. They agree up to float32 rounding.
	Result float64 `json:"result"`
	Engine float32 `json:"engine"`
	// Omitted counts the terms Trim left out, and OmittedSum is their
	// products' sum (Result still counts them).
	Omitted    int     `json:"omitted,omitempty"`
	OmittedSum float64 `json:"omittedSum,omitempty"`
}

// ShownTerms is how many terms a page lists of a weighted unit (Trim's
// usual max): its largest products, the others summed.
const ShownTerms = 256

// Trim keeps at most max of a weighted unit's terms, those of largest
// product magnitude, in kernel order, and sums the others into Omitted
// and OmittedSum: a VGG unit reads 4,608 inputs, more than a page shows.
// Pooling windows and formulas are left whole.
func (u *Unit) Trim(max int) {
	if u.Kind != "weighted" || len(u.Terms) <= max {
		return
	}
	order := make([]int, len(u.Terms))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(math.Abs(u.Terms[b].Product), math.Abs(u.Terms[a].Product))
	})
	keep := make([]bool, len(u.Terms))
	for _, i := range order[:max] {
		keep[i] = true
	}
	var kept []Term
	for i, t := range u.Terms {
		if keep[i] {
			kept = append(kept, t)
		} else {
			u.Omitted++
			u.OmittedSum += t.Product
		}
	}
	u.Terms = kept
}

// Explain works out unit (channel, y, x) of the layer whose step is st,
// for sample n of the batch. Layers it has no arithmetic for (blocks, a
// flatten, a permutation) are an error naming them.
func Explain(st *nn.Step, n, channel, y, x int) (*Unit, error) {
	if st == nil || st.In == nil || st.Out == nil {
		return nil, fmt.Errorf("arith: no forward step to explain")
	}
	in, out := st.In, st.Out
	if n < 0 || n >= out.Shape[0] {
		return nil, fmt.Errorf("arith: sample %d of a batch of %d", n, out.Shape[0])
	}
	u := &Unit{Layer: st.Layer.Name(), Type: st.Layer.Type(), Channel: channel, Y: y, X: x}
	switch len(out.Shape) {
	case 4:
		if channel < 0 || channel >= out.Shape[1] || y < 0 || y >= out.Shape[2] || x < 0 || x >= out.Shape[3] {
			return nil, fmt.Errorf("arith: unit (%d, %d, %d) outside %s's output %v", channel, y, x, u.Layer, out.Shape[1:])
		}
		u.Engine = out.Data[((n*out.Shape[1]+channel)*out.Shape[2]+y)*out.Shape[3]+x]
	case 2:
		if channel < 0 || channel >= out.Shape[1] || y != 0 || x != 0 {
			return nil, fmt.Errorf("arith: unit %d outside %s's %d outputs", channel, u.Layer, out.Shape[1])
		}
		u.Engine = out.Data[n*out.Shape[1]+channel]
	default:
		return nil, fmt.Errorf("arith: %s (%s) gives %v, not maps or a vector", u.Layer, u.Type, out.Shape)
	}
	var err error
	switch l := st.Layer.(type) {
	case *nn.Conv2d:
		err = conv(u, l, in, n)
	case *nn.Linear:
		err = linear(u, l, in, n)
	case *nn.MaxPool2d:
		err = pool(u, l.PoolConfig, in, n, true)
	case *nn.AvgPool2d:
		err = pool(u, l.PoolConfig, in, n, false)
	case *nn.BatchNorm2d:
		err = batchNorm(u, l, in, n)
	case *nn.Activation:
		err = activation(u, l, in, n)
	case *nn.LocalResponseNorm:
		err = lrn(u, l, in, n)
	default:
		err = fmt.Errorf("arith: no arithmetic for %s (%s): explain the layers inside it", u.Layer, u.Type)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// at reads input (n, c, y, x), or marks padding outside the map.
func at(in *nn.Tensor, n, c, y, x int) (float32, bool) {
	h, w := in.Shape[2], in.Shape[3]
	if y < 0 || y >= h || x < 0 || x >= w {
		return 0, true
	}
	return in.Data[((n*in.Shape[1]+c)*h+y)*w+x], false
}

func conv(u *Unit, l *nn.Conv2d, in *nn.Tensor, n int) error {
	if len(in.Shape) != 4 {
		return fmt.Errorf("arith: %s reads %v, not maps", u.Layer, in.Shape)
	}
	cfg := l.ConvConfig
	perGroup := cfg.In / cfg.Groups
	group := u.Channel / (cfg.Out / cfg.Groups)
	w := l.Weight.Value.Data
	k := cfg.Kernel
	sum := 0.0
	for ci := 0; ci < perGroup; ci++ {
		c := group*perGroup + ci
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				iy := u.Y*cfg.Stride - cfg.Padding + ky*cfg.Dilation
				ix := u.X*cfg.Stride - cfg.Padding + kx*cfg.Dilation
				v, pad := at(in, n, c, iy, ix)
				wt := w[((u.Channel*perGroup+ci)*k+ky)*k+kx]
				t := Term{Channel: c, Y: iy, X: ix, Padding: pad, Ky: ky, Kx: kx, Value: v, Weight: wt, Product: float64(v) * float64(wt)}
				sum += t.Product
				u.Terms = append(u.Terms, t)
			}
		}
	}
	u.Kind, u.Formula = "weighted", "Σ w·x"
	if l.Bias != nil {
		u.Bias, u.HasBias, u.Formula = l.Bias.Value.Data[u.Channel], true, "Σ w·x + b"
		sum += float64(u.Bias)
	}
	u.Result = sum
	return nil
}

func linear(u *Unit, l *nn.Linear, in *nn.Tensor, n int) error {
	if len(in.Shape) != 2 || in.Shape[1] != l.InFeatures {
		return fmt.Errorf("arith: %s reads %v, want (N,%d)", u.Layer, in.Shape, l.InFeatures)
	}
	row := l.Weight.Value.Data[u.Channel*l.InFeatures : (u.Channel+1)*l.InFeatures]
	xs := in.Data[n*l.InFeatures : (n+1)*l.InFeatures]
	sum := 0.0
	for i, v := range xs {
		t := Term{Channel: i, Value: v, Weight: row[i], Product: float64(v) * float64(row[i])}
		sum += t.Product
		u.Terms = append(u.Terms, t)
	}
	u.Kind, u.Formula = "weighted", "Σ w·x"
	if l.Bias != nil {
		u.Bias, u.HasBias, u.Formula = l.Bias.Value.Data[u.Channel], true, "Σ w·x + b"
		sum += float64(u.Bias)
	}
	u.Result = sum
	return nil
}

func pool(u *Unit, c nn.PoolConfig, in *nn.Tensor, n int, isMax bool) error {
	if len(in.Shape) != 4 {
		return fmt.Errorf("arith: %s reads %v, not maps", u.Layer, in.Shape)
	}
	if c.Stride == 0 {
		c.Stride = c.Kernel
	}
	best, sum, inside := math.Inf(-1), 0.0, 0
	u.Switch = -1
	for ky := 0; ky < c.Kernel; ky++ {
		for kx := 0; kx < c.Kernel; kx++ {
			iy, ix := u.Y*c.Stride-c.Padding+ky, u.X*c.Stride-c.Padding+kx
			v, pad := at(in, n, u.Channel, iy, ix)
			u.Terms = append(u.Terms, Term{Channel: u.Channel, Y: iy, X: ix, Padding: pad, Ky: ky, Kx: kx, Value: v})
			if pad {
				continue // a max never takes the padding; an average may count it
			}
			inside++
			sum += float64(v)
			if float64(v) > best {
				best, u.Switch = float64(v), len(u.Terms)-1
			}
		}
	}
	if isMax {
		u.Kind, u.Formula, u.Result = "max", "max", best
		return nil
	}
	count := len(u.Terms)
	if c.ExcludePad {
		count = inside
	}
	u.Kind, u.Formula, u.Result = "average", fmt.Sprintf("mean of %d", count), sum/float64(count)
	return nil
}

// one reads the unit's single input: the same place in the layer's input.
func one(u *Unit, in *nn.Tensor, n int) (float32, error) {
	switch len(in.Shape) {
	case 4:
		v, _ := at(in, n, u.Channel, u.Y, u.X)
		return v, nil
	case 2:
		return in.Data[n*in.Shape[1]+u.Channel], nil
	}
	return 0, fmt.Errorf("arith: %s reads %v", u.Layer, in.Shape)
}

func batchNorm(u *Unit, l *nn.BatchNorm2d, in *nn.Tensor, n int) error {
	v, err := one(u, in, n)
	if err != nil {
		return err
	}
	c := u.Channel
	mean, variance := float64(l.RunningMean.Value.Data[c]), float64(l.RunningVar.Value.Data[c])
	gamma, beta := float64(l.Weight.Value.Data[c]), float64(l.Bias.Value.Data[c])
	u.Terms = []Term{{Channel: c, Y: u.Y, X: u.X, Value: v}}
	u.Kind = "elementwise"
	u.Formula = fmt.Sprintf("(x − μ) / √(σ² + ε) · γ + β, μ = %.4g, σ² = %.4g, ε = %g, γ = %.4g, β = %.4g", mean, variance, l.Eps, gamma, beta)
	u.Result = (float64(v)-mean)/math.Sqrt(variance+float64(l.Eps))*gamma + beta
	return nil
}

// formulas are the activations worked out here, independently of nn's
// own code, with how they read.
var formulas = map[string]struct {
	text string
	f    func(x float64) float64
}{
	"ReLU":      {"max(0, x)", func(x float64) float64 { return math.Max(0, x) }},
	"ReLU6":     {"min(max(0, x), 6)", func(x float64) float64 { return math.Min(math.Max(0, x), 6) }},
	"Tanh":      {"tanh(x)", math.Tanh},
	"LeCunTanh": {"1.7159 · tanh(2x / 3)", func(x float64) float64 { return 1.7159 * math.Tanh(2*x/3) }},
	"Sigmoid":   {"1 / (1 + e^−x)", func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }},
	"GELU":      {"x · Φ(x) = x · (1 + erf(x / √2)) / 2", func(x float64) float64 { return x * (1 + math.Erf(x/math.Sqrt2)) / 2 }},
	"SiLU":      {"x · sigmoid(x)", func(x float64) float64 { return x / (1 + math.Exp(-x)) }},
	"Hardswish": {"x · min(max(x + 3, 0), 6) / 6", func(x float64) float64 { return x * math.Min(math.Max(x+3, 0), 6) / 6 }},
	"Hardsigmoid": {"min(max(x + 3, 0), 6) / 6", func(x float64) float64 {
		return math.Min(math.Max(x+3, 0), 6) / 6
	}},
}

func activation(u *Unit, l *nn.Activation, in *nn.Tensor, n int) error {
	v, err := one(u, in, n)
	if err != nil {
		return err
	}
	f, ok := formulas[l.Type()]
	if !ok {
		return fmt.Errorf("arith: no formula for %s (%s)", u.Layer, l.Type())
	}
	u.Terms = []Term{{Channel: u.Channel, Y: u.Y, X: u.X, Value: v}}
	u.Kind, u.Formula, u.Result = "elementwise", f.text, f.f(float64(v))
	return nil
}

// lrn is AlexNet's local response normalisation across channels: the unit
// divided by (k + α/n Σ x²)^β over the n channels around its own (PyTorch's
// window: size/2 before, (size−1)/2 after).
func lrn(u *Unit, l *nn.LocalResponseNorm, in *nn.Tensor, n int) error {
	if l.WithinChannel || len(in.Shape) != 4 {
		return fmt.Errorf("arith: %s normalises within a channel; only AlexNet's across-channel form is shown", u.Layer)
	}
	sum := 0.0
	var self float32
	for c := max(u.Channel-l.Size/2, 0); c <= min(u.Channel+(l.Size-1)/2, in.Shape[1]-1); c++ {
		v, _ := at(in, n, c, u.Y, u.X)
		u.Terms = append(u.Terms, Term{Channel: c, Y: u.Y, X: u.X, Value: v, Product: float64(v) * float64(v)})
		sum += float64(v) * float64(v)
		if c == u.Channel {
			self = v
		}
	}
	k, a, b := float64(l.K), float64(l.Alpha)/float64(l.Size), float64(l.Beta)
	u.Kind = "elementwise"
	u.Formula = fmt.Sprintf("x / (k + α/n · Σ x_j²)^β, k = %g, α = %g, n = %d, β = %g", l.K, l.Alpha, l.Size, l.Beta)
	u.Result = float64(self) / math.Pow(k+a*sum, b)
	return nil
}
