package nn

import "math"

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
