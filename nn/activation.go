package nn

import (
	"math"

	"github.com/convscope/convscope/nn/kernel"
)

// elementwise is the shared shape of activations: any input shape, output alike.
type elementwise struct{ base }

// OutputShape is the identity.
func (elementwise) OutputShape(in []int) ([]int, error) { return append([]int(nil), in...), nil }

// Activation is an elementwise function y = f(x) with derivative f'(x).
// Its backward is where the rules differ:
//
//	Gradient:  dx = dy * f'(x)
//	Deconvnet: dx = max(dy, 0) for rectifiers (ReLU and its smooth or capped
//	           kin), dx = dy for squashing functions (tanh, sigmoid), which
//	           rectify nothing (Zeiler & Fergus define only the ReLU case)
//	Guided:    dx = max(dy, 0) * f'(x)
//
// For ReLU these are backprop, the deconvnet's "ReLU inversion" and guided
// backpropagation exactly.
type Activation struct {
	elementwise
	kind      string
	rectifier bool
	f         func(x float32) float32
	df        func(x, y float32) float32
	// fast selects a vector loop of package kernel for the hot activations
	// (ReLU, ReLU6, Tanh, LeCunTanh, and GELU's forward pass) instead of a
	// call of f and df per element; the loops compute what f and df do, up
	// to the rounding of fused multiply-adds.
	fast fastAct
	// s and a are the scales of actTanh: y = a*tanh(s*x).
	s, a float32
}

// fastAct names the activations with a loop of their own.
type fastAct int

const (
	actGeneric fastAct = iota
	actReLU
	actReLU6
	actTanh // a*tanh(s*x): Tanh and LeCunTanh
	actGELU
)

// Type is PyTorch's class name ("ReLU", "GELU", ...).
func (a *Activation) Type() string { return a.kind }

// Rectifies reports whether the deconvnet rectifies the signal here.
func (a *Activation) Rectifies() bool { return a.rectifier }

// Forward applies f to every element, in parallel pieces for large tensors.
func (a *Activation) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	y := ctx.arena().Uninit(x.Shape...)
	kernel.ParallelRange(len(x.Data), func(lo, hi int) {
		src, dst := x.Data[lo:hi], y.Data[lo:hi]
		switch a.fast {
		case actReLU:
			kernel.Clamp(dst, src, 0, float32(math.Inf(1)))
		case actReLU6:
			kernel.Clamp(dst, src, 0, 6)
		case actTanh:
			kernel.ScaledTanh(dst, src, a.s, a.a)
		case actGELU:
			kernel.GELU(dst, src)
		default:
			for i, v := range src {
				dst[i] = a.f(v)
			}
		}
	})
	return y, nil, nil
}

// overwrites reports whether a may write its output over its input (see
// Context.InPlace): a rectifier's backward reads only the mask
// 0 < x < hi, which its output gives as well as its input.
func (a *Activation) overwrites() bool { return a.fast == actReLU || a.fast == actReLU6 }

// ceiling is the rectifier's upper bound: 6 for ReLU6, +Inf for ReLU.
func (a *Activation) ceiling() float32 {
	if a.fast == actReLU6 {
		return 6
	}
	return float32(math.Inf(1))
}

// overwriting is a rectifier whose Forward writes over its input.
type overwriting struct{ *Activation }

// Forward rectifies x in place and returns it.
func (o overwriting) Forward(x *Tensor, _ *Context) (*Tensor, any, error) {
	hi := o.ceiling()
	kernel.ParallelRange(len(x.Data), func(lo, end int) { kernel.Clamp(x.Data[lo:end], x.Data[lo:end], 0, hi) })
	return x, nil, nil
}

// forwardOver runs l on x, in x's buffer when ctx allows it, l is a
// rectifier and x is private: nothing but l reads it, forward or
// backward.
func forwardOver(l Layer, private bool, x *Tensor, ctx *Context) (*Tensor, any, error) {
	if a, ok := l.(*Activation); ok && private && ctx != nil && ctx.InPlace && a.overwrites() {
		return forward(overwriting{a}, x, ctx)
	}
	return forward(l, x, ctx)
}

// keepsOutputPrivate reports whether l's output, inside a chain, is read
// only by the next layer: l's own backward does not read it.
func keepsOutputPrivate(l Layer) bool {
	switch l.(type) {
	case *Conv2d, *BatchNorm2d, *Linear:
		return true
	}
	return false
}

// Backward applies the rule (see the type's comment).
func (a *Activation) Backward(dy *Tensor, st *Step, rule Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(a, dy, st); err != nil {
		return nil, err
	}
	dx := st.arena.Uninit(dy.Shape...)
	kernel.ParallelRange(len(dy.Data), func(lo, hi int) {
		a.backward(dy.Data[lo:hi], st.In.Data[lo:hi], st.Out.Data[lo:hi], dx.Data[lo:hi], rule)
	})
	return dx, nil
}

// backward is Backward on one piece: dx from dy, x and y.
func (a *Activation) backward(dy, x, y, dx []float32, rule Rule) {
	x, y, dx = x[:len(dy)], y[:len(dy)], dx[:len(dy)]
	if rule == Deconvnet {
		for i, d := range dy {
			if a.rectifier {
				d = max(d, 0)
			}
			dx[i] = d
		}
		return
	}
	switch {
	case a.fast == actReLU || a.fast == actReLU6:
		// f'(x) = 1[0 < x < hi] as a mask: the signal there, else +0, as
		// PyTorch's threshold_backward and hardtanh_backward.
		hi := a.ceiling()
		if rule == Guided {
			kernel.Clamp(dx, dy, 0, float32(math.Inf(1)))
			dy = dx
		}
		kernel.MaskBetween(dx, dy, x, 0, hi)
	case a.fast == actTanh:
		if rule == Guided {
			kernel.Clamp(dx, dy, 0, float32(math.Inf(1)))
			dy = dx
		}
		kernel.ScaledTanhGrad(dx, dy, y, a.a*a.s, a.s/a.a)
	case a.fast == actGELU:
		if rule == Guided {
			kernel.Clamp(dx, dy, 0, float32(math.Inf(1)))
			dy = dx
		}
		kernel.GELUGrad(dx, dy, x)
	default:
		for i, d := range dy {
			if rule == Guided {
				d = max(d, 0)
			}
			dx[i] = d * a.df(x[i], y[i])
		}
	}
}

func newActivation(name, kind string, rectifier bool, f func(float32) float32, df func(x, y float32) float32) *Activation {
	a := &Activation{elementwise: elementwise{base{name}}, kind: kind, rectifier: rectifier, f: f, df: df}
	switch kind {
	case "ReLU":
		a.fast = actReLU
	case "ReLU6":
		a.fast = actReLU6
	case "Tanh":
		a.fast, a.s, a.a = actTanh, 1, 1
	case "GELU":
		a.fast = actGELU
	}
	return a
}

func step01(c bool) float32 {
	if c {
		return 1
	}
	return 0
}

// NewReLU is y = max(x, 0); f'(x) = 1[x > 0].
func NewReLU(name string) *Activation {
	return newActivation(name, "ReLU", true, func(x float32) float32 { return max(x, 0) },
		func(x, _ float32) float32 { return step01(x > 0) })
}

// NewReLU6 is y = min(max(x, 0), 6) (MobileNet v2); f'(x) = 1[0 < x < 6].
func NewReLU6(name string) *Activation {
	return newActivation(name, "ReLU6", true, func(x float32) float32 { return min(max(x, 0), 6) },
		func(x, _ float32) float32 { return step01(x > 0 && x < 6) })
}

// NewLeakyReLU is y = x for x > 0, slope*x otherwise (PyTorch's default
// slope is 0.01).
func NewLeakyReLU(name string, slope float32) *Activation {
	return newActivation(name, "LeakyReLU", true,
		func(x float32) float32 {
			if x > 0 {
				return x
			}
			return slope * x
		},
		func(x, _ float32) float32 {
			if x > 0 {
				return 1
			}
			return slope
		})
}

// NewGELU is the exact GELU (ConvNeXt): y = x*Φ(x) = 0.5x(1 + erf(x/√2));
// f'(x) = Φ(x) + x*φ(x). The forward pass uses kernel.Erf (float32, within
// 4.2e-7 of math.Erf), the backward kernel.GELUGrad (within 1e-6 of the
// float64 derivative below, which the tests hold it to).
func NewGELU(name string) *Activation {
	return newActivation(name, "GELU", true,
		func(x float32) float32 { return 0.5 * x * (1 + kernel.Erf(x*(1/math.Sqrt2))) },
		func(x, _ float32) float32 {
			v := float64(x)
			cdf := 0.5 * (1 + math.Erf(v/math.Sqrt2))
			pdf := math.Exp(-0.5*v*v) / math.Sqrt(2*math.Pi)
			return float32(cdf + v*pdf)
		})
}

// NewSiLU is y = x*σ(x) (swish); f'(x) = σ(x)(1 + x(1 - σ(x))).
func NewSiLU(name string) *Activation {
	return newActivation(name, "SiLU", true,
		func(x float32) float32 { return x * sigmoid(x) },
		func(x, _ float32) float32 { s := sigmoid(x); return s * (1 + x*(1-s)) })
}

// NewHardswish is y = x*relu6(x+3)/6 (MobileNet v3); f'(x) = 0 below -3,
// x/3 + 1/2 on [-3, 3), 1 from 3 on. At x = 3 PyTorch 1.13's CPU kernel is
// not self-consistent (its vector loop says 1, its scalar tail 1.5); convscope
// takes the vector loop's answer, which almost every element of a real tensor gets.
func NewHardswish(name string) *Activation {
	return newActivation(name, "Hardswish", true,
		func(x float32) float32 { return x * min(max(x+3, 0), 6) / 6 },
		func(x, _ float32) float32 {
			switch {
			case x < -3:
				return 0
			case x < 3:
				return x/3 + 0.5
			}
			return 1
		})
}

// NewHardsigmoid is y = relu6(x+3)/6; f'(x) = 1/6 on (-3, 3), 0 elsewhere.
func NewHardsigmoid(name string) *Activation {
	return newActivation(name, "Hardsigmoid", false,
		func(x float32) float32 { return min(max(x+3, 0), 6) / 6 },
		func(x, _ float32) float32 { return step01(x > -3 && x < 3) / 6 })
}

// NewSigmoid is y = 1/(1+e^-x); f'(x) = y(1-y).
func NewSigmoid(name string) *Activation {
	return newActivation(name, "Sigmoid", false, sigmoid, func(_, y float32) float32 { return y * (1 - y) })
}

// NewTanh is y = tanh(x), LeNet-5's squashing function; f'(x) = 1 - y².
// It is computed in float32 (kernel.Tanh, within a few ULP of math.Tanh).
func NewTanh(name string) *Activation {
	return newActivation(name, "Tanh", false, kernel.Tanh,
		func(_, y float32) float32 { return 1 - y*y })
}

// NewLeCunTanh is LeNet-5's squashing function f(a) = A tanh(S a) with
// A = 1.7159 and S = 2/3 (LeCun et al. 1998, appendix A), chosen so that
// f(±1) = ±1; f'(a) = S (A - f²/A).
func NewLeCunTanh(name string) *Activation {
	const a, s = 1.7159, 2.0 / 3
	l := newActivation(name, "LeCunTanh", false, func(x float32) float32 { return a * kernel.Tanh(s*x) },
		func(_, y float32) float32 { return float32(s * (a - float64(y*y)/a)) })
	l.fast, l.s, l.a = actTanh, s, a
	return l
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
