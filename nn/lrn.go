package nn

import (
	"fmt"
	"math"

	"github.com/convscope/convscope/nn/kernel"
)

// LocalResponseNorm is AlexNet's and ZFNet's local response normalisation.
//
// Across channels (PyTorch's LocalResponseNorm, the default):
//
//	y_c = x_c / (k + alpha/n * sum_{c' = c-n/2}^{c+(n-1)/2} x_{c'}²)^beta
//
// Within a channel (the seed's "intra-channel" form, as Caffe's
// WITHIN_CHANNEL): the sum runs over the n×n spatial neighbourhood of the
// same channel, zero-padded, and alpha is divided by n².
type LocalResponseNorm struct {
	elementwise
	Size           int
	Alpha, Beta, K float32
	WithinChannel  bool
}

// NewLocalResponseNorm makes an across-channel LRN (PyTorch's defaults are
// alpha 1e-4, beta 0.75, k 1; AlexNet uses size 5, alpha 1e-4, beta 0.75, k 2).
func NewLocalResponseNorm(name string, size int, alpha, beta, k float32) *LocalResponseNorm {
	return &LocalResponseNorm{elementwise{base{name}}, size, alpha, beta, k, false}
}

// Type is "LocalResponseNorm".
func (l *LocalResponseNorm) Type() string { return "LocalResponseNorm" }

// neighbours calls fn(j) for every index j whose square enters element i's
// sum, for a tensor of shape (N,C,H,W). Across channels the relation is
// not symmetric for even sizes, so reverse lists the elements whose sums
// contain i.
func (l *LocalResponseNorm) neighbours(shape []int, i int, reverse bool, fn func(j int)) {
	c, h, w := shape[1], shape[2], shape[3]
	hw := h * w
	ch := (i / hw) % c
	if !l.WithinChannel {
		lo, hi := ch-l.Size/2, ch+(l.Size-1)/2
		if reverse {
			lo, hi = ch-(l.Size-1)/2, ch+l.Size/2
		}
		for cc := max(lo, 0); cc <= min(hi, c-1); cc++ {
			fn(i + (cc-ch)*hw)
		}
		return
	}
	p := i % hw
	y, x := p/w, p%w
	lo, hi := -l.Size/2, (l.Size-1)/2
	if reverse {
		lo, hi = -(l.Size-1)/2, l.Size/2
	}
	for dy := lo; dy <= hi; dy++ {
		for dx := lo; dx <= hi; dx++ {
			if yy, xx := y+dy, x+dx; yy >= 0 && yy < h && xx >= 0 && xx < w {
				fn(i + dy*w + dx)
			}
		}
	}
}

func (l *LocalResponseNorm) scale() float32 {
	if l.WithinChannel {
		return l.Alpha / float32(l.Size*l.Size)
	}
	return l.Alpha / float32(l.Size)
}

// Forward normalises; the denominators' bases S go in the Step.
func (l *LocalResponseNorm) Forward(x *Tensor, _ *Context) (*Tensor, any, error) {
	if len(x.Shape) != 4 {
		return nil, nil, shapeError(l, "(N,C,H,W)", x.Shape)
	}
	if l.Size < 1 {
		return nil, nil, fmt.Errorf("%s (LocalResponseNorm): size %d", l.name, l.Size)
	}
	y := New(x.Shape...)
	s := make([]float32, len(x.Data))
	a := l.scale()
	if !l.WithinChannel {
		// Plane by plane: each plane's sums over its window of channel
		// planes, in channel order as the loop below takes them.
		n, c, hw := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
		kernel.ParallelFor(n*c, func(_, p int) {
			ch := p % c
			base := (p - ch) * hw
			sp, xp, yp := s[p*hw:(p+1)*hw], x.Data[p*hw:(p+1)*hw], y.Data[p*hw:(p+1)*hw]
			for j := max(ch-l.Size/2, 0); j <= min(ch+(l.Size-1)/2, c-1); j++ {
				for k, v := range x.Data[base+j*hw : base+(j+1)*hw] {
					sp[k] += v * v
				}
			}
			for k, v := range sp {
				sp[k] = l.K + a*v
				yp[k] = xp[k] * l.powNeg(sp[k])
			}
		})
		return y, s, nil
	}
	kernel.ParallelRange(len(x.Data), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var sum float32
			l.neighbours(x.Shape, i, false, func(j int) { sum += x.Data[j] * x.Data[j] })
			s[i] = l.K + a*sum
			y.Data[i] = x.Data[i] * l.powNeg(s[i])
		}
	})
	return y, s, nil
}

// powNeg is s^-beta: for AlexNet's and ZFNet's beta 0.75 it is
// 1/(√s·√√s), within a float32 rounding or two of math.Pow and many times
// faster (pow was two thirds of ZFNet-small's training step).
func (l *LocalResponseNorm) powNeg(s float32) float32 {
	if l.Beta == 0.75 {
		r := math.Sqrt(float64(s))
		return float32(1 / (r * math.Sqrt(r)))
	}
	return float32(math.Pow(float64(s), -float64(l.Beta)))
}

// Backward (every rule), with S_i the base of element i's denominator:
//
//	dx_j = dy_j S_j^-beta - 2 beta a x_j * sum_{i: j in window(i)} dy_i x_i S_i^(-beta-1)
//
// where a is alpha/n (alpha/n² within a channel).
func (l *LocalResponseNorm) Backward(dy *Tensor, st *Step, _ Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(l, dy, st); err != nil {
		return nil, err
	}
	x, s := st.In, st.Saved.([]float32)
	t := make([]float32, len(x.Data)) // dy_i x_i S_i^(-beta-1)
	kernel.ParallelRange(len(t), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			t[i] = dy.Data[i] * x.Data[i] * (l.powNeg(s[i]) / s[i])
		}
	})
	dx := New(x.Shape...)
	k := 2 * l.Beta * l.scale()
	if !l.WithinChannel {
		// Plane j gathers t from the planes whose windows hold it.
		n, c, hw := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
		kernel.ParallelFor(n*c, func(_, p int) {
			ch := p % c
			base := (p - ch) * hw
			dp := dx.Data[p*hw : (p+1)*hw] // the sums first, then dx
			for i := max(ch-(l.Size-1)/2, 0); i <= min(ch+l.Size/2, c-1); i++ {
				for q, v := range t[base+i*hw : base+(i+1)*hw] {
					dp[q] += v
				}
			}
			for q, sum := range dp {
				dp[q] = dy.Data[p*hw+q]*l.powNeg(s[p*hw+q]) - k*x.Data[p*hw+q]*sum
			}
		})
		return dx, nil
	}
	kernel.ParallelRange(len(dx.Data), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			var sum float32
			l.neighbours(x.Shape, j, true, func(i int) { sum += t[i] })
			dx.Data[j] = dy.Data[j]*l.powNeg(s[j]) - k*x.Data[j]*sum
		}
	})
	return dx, nil
}

// Dropout2d zeroes whole channels with probability P during training and
// scales the kept ones by 1/(1-P); evaluation is the identity. The mask (one
// value per sample and channel) lives in the Step.
type Dropout2d struct {
	elementwise
	P float32
}

// NewDropout2d makes a channel dropout layer.
func NewDropout2d(name string, p float32) *Dropout2d { return &Dropout2d{elementwise{base{name}}, p} }

// Type is "Dropout2d".
func (*Dropout2d) Type() string { return "Dropout2d" }

// Forward draws one keep/drop per (sample, channel) in training.
func (d *Dropout2d) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	if ctx == nil || !ctx.Train || d.P == 0 {
		return x, nil, nil
	}
	if len(x.Shape) != 4 {
		return nil, nil, shapeError(d, "(N,C,H,W)", x.Shape)
	}
	if ctx.Rand == nil {
		return nil, nil, fmt.Errorf("%s (Dropout2d): training pass without a random source", d.name)
	}
	planes := x.Shape[0] * x.Shape[1]
	mask := make([]float32, planes)
	for p := range mask {
		if ctx.Rand.Float32() >= d.P {
			mask[p] = 1 / (1 - d.P)
		}
	}
	return masked(x, mask, ctx.arena()), mask, nil
}

// Backward multiplies dy by the recorded channel mask.
func (d *Dropout2d) Backward(dy *Tensor, st *Step, _ Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(d, dy, st); err != nil {
		return nil, err
	}
	return applyMask(dy, st.Saved, st.arena), nil
}
