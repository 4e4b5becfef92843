package nn

// SGD is PyTorch's torch.optim.SGD with momentum and weight decay
// (dampening 0, no Nesterov):
//
//	d = grad + wd*w;  buf = momentum*buf + d (buf = d on the first step);  w -= lr*buf
//
// Parameters marked NoDecay skip the weight-decay term.
type SGD struct {
	LR, Momentum, WeightDecay float32
	buf                       map[*Param][]float32
}

// NewSGD makes an optimizer; its state (momentum buffers) starts empty.
func NewSGD(lr, momentum, weightDecay float32) *SGD {
	return &SGD{LR: lr, Momentum: momentum, WeightDecay: weightDecay, buf: map[*Param][]float32{}}
}

// Step updates every parameter that has a gradient in g.
func (o *SGD) Step(g Grads) {
	for p, grad := range g {
		wd := o.WeightDecay
		if p.NoDecay {
			wd = 0
		}
		w := p.Value.Data
		b, ok := o.buf[p]
		if o.Momentum != 0 && !ok {
			b = make([]float32, len(w))
			o.buf[p] = b
		}
		for i, gi := range grad.Data {
			d := gi + wd*w[i]
			if o.Momentum != 0 {
				if ok {
					d += o.Momentum * b[i]
				}
				b[i] = d
			}
			w[i] -= o.LR * d
		}
	}
}
