package nn

import (
	"fmt"
	"math"
)

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	// Step applies one update for every parameter that has a gradient in g.
	Step(g Grads)
	// SetLR changes the learning rate (schedules call it).
	SetLR(lr float32)
	// LR is the current learning rate.
	LR() float32
}

// Weight decay applies only to parameters without NoDecay: convscope's
// parameter groups are "decayed" (weights) and "not decayed" (biases and
// normalisation parameters), the split every modern recipe uses.

// SGD is PyTorch's torch.optim.SGD:
//
//	d = grad + wd*w
//	buf = momentum*buf + (1-dampening)*d   (buf = d on the first step)
//	d = d + momentum*buf if Nesterov, else buf
//	w -= lr*d
type SGD struct {
	Rate, Momentum, Dampening, WeightDecay float32
	Nesterov                               bool
	buf                                    map[*Param][]float32
}

// NewSGD makes an SGD optimizer without dampening or Nesterov momentum.
func NewSGD(lr, momentum, weightDecay float32) *SGD {
	return &SGD{Rate: lr, Momentum: momentum, WeightDecay: weightDecay, buf: map[*Param][]float32{}}
}

// SetLR sets the learning rate.
func (o *SGD) SetLR(lr float32) { o.Rate = lr }

// LR is the learning rate.
func (o *SGD) LR() float32 { return o.Rate }

// Step updates every parameter that has a gradient in g.
func (o *SGD) Step(g Grads) {
	if o.buf == nil {
		o.buf = map[*Param][]float32{}
	}
	for p, grad := range g {
		wd := decay(p, o.WeightDecay)
		w := p.Value.Data
		b, seen := o.buf[p]
		if o.Momentum != 0 && !seen {
			b = make([]float32, len(w))
			o.buf[p] = b
		}
		for i, gi := range grad.Data {
			d := gi + wd*w[i]
			if o.Momentum != 0 {
				if seen {
					b[i] = o.Momentum*b[i] + (1-o.Dampening)*d
				} else {
					b[i] = d
				}
				if o.Nesterov {
					d += o.Momentum * b[i]
				} else {
					d = b[i]
				}
			}
			w[i] -= o.Rate * d
		}
	}
}

func decay(p *Param, wd float32) float32 {
	if p.NoDecay {
		return 0
	}
	return wd
}

// Adam is PyTorch's torch.optim.Adam (Decoupled false) and AdamW (Decoupled
// true), without amsgrad:
//
//	Adam:  g = grad + wd*w            AdamW: w = w*(1 - lr*wd), g = grad
//	m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g²;  t = t+1
//	w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
type Adam struct {
	Rate, Beta1, Beta2, Eps, WeightDecay float32
	Decoupled                            bool
	m, v                                 map[*Param][]float32
	t                                    map[*Param]int
}

// NewAdam makes Adam with PyTorch's defaults (betas 0.9, 0.999, eps 1e-8).
func NewAdam(lr, weightDecay float32) *Adam {
	return &Adam{Rate: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay}
}

// NewAdamW makes AdamW with PyTorch's defaults (weight decay 0.01 there).
func NewAdamW(lr, weightDecay float32) *Adam {
	a := NewAdam(lr, weightDecay)
	a.Decoupled = true
	return a
}

// SetLR sets the learning rate.
func (o *Adam) SetLR(lr float32) { o.Rate = lr }

// LR is the learning rate.
func (o *Adam) LR() float32 { return o.Rate }

// Step updates every parameter that has a gradient in g.
func (o *Adam) Step(g Grads) {
	if o.m == nil {
		o.m, o.v, o.t = map[*Param][]float32{}, map[*Param][]float32{}, map[*Param]int{}
	}
	for p, grad := range g {
		w := p.Value.Data
		m, ok := o.m[p]
		if !ok {
			m = make([]float32, len(w))
			o.m[p], o.v[p] = m, make([]float32, len(w))
		}
		v := o.v[p]
		o.t[p]++
		t := float64(o.t[p])
		wd := decay(p, o.WeightDecay)
		stepSize := float64(o.Rate) / (1 - math.Pow(float64(o.Beta1), t))
		bc2 := math.Sqrt(1 - math.Pow(float64(o.Beta2), t))
		for i, gi := range grad.Data {
			if o.Decoupled {
				w[i] *= 1 - o.Rate*wd
			} else {
				gi += wd * w[i]
			}
			m[i] = o.Beta1*m[i] + (1-o.Beta1)*gi
			v[i] = o.Beta2*v[i] + (1-o.Beta2)*gi*gi
			denom := math.Sqrt(float64(v[i]))/bc2 + float64(o.Eps)
			w[i] -= float32(stepSize * float64(m[i]) / denom)
		}
	}
}

// ClipGradNorm scales every gradient in g by maxNorm/(total+1e-6) when the
// total L2 norm over all of them exceeds maxNorm, as PyTorch's
// clip_grad_norm_; it returns the norm before clipping.
func ClipGradNorm(g Grads, maxNorm float32) float32 {
	var sq float64
	for _, t := range g {
		for _, v := range t.Data {
			sq += float64(v) * float64(v)
		}
	}
	total := float32(math.Sqrt(sq))
	if coef := maxNorm / (total + 1e-6); coef < 1 {
		for _, t := range g {
			for i := range t.Data {
				t.Data[i] *= coef
			}
		}
	}
	return total
}

// StateOf returns an optimizer's per-parameter state for a checkpoint,
// keyed as PyTorch's optimizer state names it with the parameter's name
// after a dot ("momentum_buffer.c1.weight", "exp_avg.fc.bias", "step.fc.bias").
func StateOf(o Optimizer, params []*Param) map[string]*Tensor {
	out := map[string]*Tensor{}
	switch o := o.(type) {
	case *SGD:
		for _, p := range params {
			if b, ok := o.buf[p]; ok {
				out["momentum_buffer."+p.Name] = FromData(append([]float32(nil), b...), p.Value.Shape...)
			}
		}
	case *Adam:
		for _, p := range params {
			if m, ok := o.m[p]; ok {
				out["exp_avg."+p.Name] = FromData(append([]float32(nil), m...), p.Value.Shape...)
				out["exp_avg_sq."+p.Name] = FromData(append([]float32(nil), o.v[p]...), p.Value.Shape...)
				out["step."+p.Name] = FromData([]float32{float32(o.t[p])}, 1)
			}
		}
	}
	return out
}

// LoadStateInto restores what StateOf saved into a fresh optimizer of the
// same kind; a tensor of the wrong shape is an error.
func LoadStateInto(o Optimizer, params []*Param, state map[string]*Tensor) error {
	get := func(key string, p *Param) ([]float32, bool, error) {
		t, ok := state[key+"."+p.Name]
		if !ok {
			return nil, false, nil
		}
		if t.Len() != p.Value.Len() {
			return nil, false, fmt.Errorf("optimizer state %s.%s has %d values, the parameter %d", key, p.Name, t.Len(), p.Value.Len())
		}
		return append([]float32(nil), t.Data...), true, nil
	}
	switch o := o.(type) {
	case *SGD:
		o.buf = map[*Param][]float32{}
		for _, p := range params {
			b, ok, err := get("momentum_buffer", p)
			if err != nil {
				return err
			}
			if ok {
				o.buf[p] = b
			}
		}
	case *Adam:
		o.m, o.v, o.t = map[*Param][]float32{}, map[*Param][]float32{}, map[*Param]int{}
		for _, p := range params {
			m, ok, err := get("exp_avg", p)
			if err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			v, _, err := get("exp_avg_sq", p)
			if err != nil || v == nil {
				return fmt.Errorf("optimizer state: exp_avg of %s without exp_avg_sq (%v)", p.Name, err)
			}
			st, ok := state["step."+p.Name]
			if !ok || st.Len() != 1 {
				return fmt.Errorf("optimizer state: no step count for %s", p.Name)
			}
			o.m[p], o.v[p], o.t[p] = m, v, int(st.Data[0])
		}
	default:
		return fmt.Errorf("optimizer %T keeps no checkpointable state", o)
	}
	return nil
}
