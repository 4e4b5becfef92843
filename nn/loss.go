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
	if len(logits.Shape) != 2 || logits.Shape[0] != len(labels) {
		return 0, nil, fmt.Errorf("cross-entropy: logits %s for %d labels", ShapeString(logits.Shape), len(labels))
	}
	n, k := logits.Shape[0], logits.Shape[1]
	d := Softmax(logits)
	var loss float64
	for i, y := range labels {
		if y < 0 || y >= k {
			return 0, nil, fmt.Errorf("cross-entropy: label %d outside [0,%d)", y, k)
		}
		row := d.Data[i*k : (i+1)*k]
		loss -= math.Log(max(float64(row[y]), 1e-30))
		row[y]--
		for j := range row {
			row[j] /= float32(n)
		}
	}
	return float32(loss / float64(n)), d, nil
}
