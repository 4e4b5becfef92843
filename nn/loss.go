package nn

import (
	"fmt"
	"math"
)

// Softmax returns softmax over the last dimension of logits (N,K).
func Softmax(logits *Tensor) *Tensor {
	p := New(logits.Shape...)
	k := logits.Shape[len(logits.Shape)-1]
	for i := 0; i < len(logits.Data)/k; i++ {
		row, out := logits.Data[i*k:(i+1)*k], p.Data[i*k:(i+1)*k]
		m := row[ArgMax(row)]
		var sum float64
		for j, v := range row {
			e := math.Exp(float64(v - m))
			out[j] = float32(e)
			sum += e
		}
		for j := range out {
			out[j] = float32(float64(out[j]) / sum)
		}
	}
	return p
}

// CrossEntropy is PyTorch's F.cross_entropy(logits, labels) with mean
// reduction: loss = -(1/N) sum_n log softmax(logits[n])[labels[n]].
// logits is (N,K); it returns the loss and dlogits = (softmax - onehot)/N.
func CrossEntropy(logits *Tensor, labels []int) (float32, *Tensor, error) {
	return CrossEntropyLoss{}.Compute(logits, labels)
}

// CrossEntropyLoss is F.cross_entropy with label smoothing ε and class
// weights w (nil: all 1), mean reduction, exactly as PyTorch 1.13 computes it:
//
//	loss = [(1-ε) sum_n w[y_n](-log p[n,y_n]) + ε/K sum_n sum_c w[c](-log p[n,c])] / sum_n w[y_n]
type CrossEntropyLoss struct {
	Smoothing float32
	Weights   []float32
}

// Compute returns the loss for logits (N,K) and labels, and dlogits:
//
//	dlogits[n,c] = [(1-ε) w[y_n](p[n,c] - 1[c=y_n]) + ε/K (p[n,c] sum(w) - w[c])] / sum_n w[y_n]
func (l CrossEntropyLoss) Compute(logits *Tensor, labels []int) (float32, *Tensor, error) {
	if len(logits.Shape) != 2 || logits.Shape[0] != len(labels) || len(labels) == 0 {
		return 0, nil, fmt.Errorf("cross-entropy: logits %s for %d labels", ShapeString(logits.Shape), len(labels))
	}
	k := logits.Shape[1]
	w := l.Weights
	if w == nil {
		w = make([]float32, k)
		fill(w, 1)
	}
	if len(w) != k {
		return 0, nil, fmt.Errorf("cross-entropy: %d class weights for %d classes", len(w), k)
	}
	var sumW float64
	for _, v := range w {
		sumW += float64(v)
	}
	eps := float64(l.Smoothing)
	p := Softmax(logits)
	var nll, smooth, norm float64
	for i, y := range labels {
		if y < 0 || y >= k {
			return 0, nil, fmt.Errorf("cross-entropy: label %d outside [0,%d)", y, k)
		}
		row := p.Data[i*k : (i+1)*k]
		norm += float64(w[y])
		nll -= float64(w[y]) * math.Log(max(float64(row[y]), 1e-45))
		if eps != 0 {
			for c, pc := range row {
				smooth -= float64(w[c]) * math.Log(max(float64(pc), 1e-45))
			}
		}
	}
	loss := ((1-eps)*nll + eps/float64(k)*smooth) / norm
	d := p // reuse the probabilities' storage for the gradient
	for i, y := range labels {
		row := d.Data[i*k : (i+1)*k]
		for c, pc := range row {
			g := (1 - eps) * float64(w[y]) * float64(pc)
			if c == y {
				g -= (1 - eps) * float64(w[y])
			}
			g += eps / float64(k) * (float64(pc)*sumW - float64(w[c]))
			row[c] = float32(g / norm)
		}
	}
	return float32(loss), d, nil
}

// MSE is F.mse_loss with mean reduction: mean((x - target)²); it returns
// the loss and dx = 2(x - target)/numel.
func MSE(x, target *Tensor) (float32, *Tensor, error) {
	if !SameShape(x.Shape, target.Shape) {
		return 0, nil, fmt.Errorf("mse: input %s, target %s", ShapeString(x.Shape), ShapeString(target.Shape))
	}
	dx := New(x.Shape...)
	var sum float64
	n := float32(len(x.Data))
	for i, v := range x.Data {
		diff := v - target.Data[i]
		sum += float64(diff) * float64(diff)
		dx.Data[i] = 2 * diff / n
	}
	return float32(sum / float64(n)), dx, nil
}
