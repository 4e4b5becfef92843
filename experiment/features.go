package experiment

// Batched forward passes and what Figures 5 and 8 read from them: a
// layer's whole output for one sample, flattened, and a class's softmax
// probability. Plain loops, no attempt to skip layers past the last one
// asked for.

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/convscope/convscope/nn"
)

// forwardBatch is the batch size when a caller gives none.
const forwardBatch = 16

// forwardEach runs n one-sample inputs of shape (C,H,W) through net in
// batches of at most batch: fill writes input i into dst, and seen gets
// each batch's trace with the range [from, to) of inputs it holds. ctx is
// checked before every batch; progress, if not nil, hears (to, n) after it.
func forwardEach(ctx context.Context, net *nn.Sequential, shape []int, n, batch int,
	fill func(i int, dst []float32), seen func(tr *nn.Trace, from, to int) error, progress func(done, total int)) error {
	if batch < 1 {
		batch = forwardBatch
	}
	per := nn.Numel(shape)
	for from := 0; from < n; from += batch {
		if err := ctx.Err(); err != nil {
			return errors.Join(errors.New("experiment stopped"), err)
		}
		to := min(n, from+batch)
		xs := nn.New(append([]int{to - from}, shape...)...)
		for i := from; i < to; i++ {
			fill(i, xs.Data[(i-from)*per:(i-from+1)*per])
		}
		tr, err := net.Forward(xs, &nn.Context{}, nil)
		if err != nil {
			return err
		}
		if err := seen(tr, from, to); err != nil {
			return err
		}
		if progress != nil {
			progress(to, n)
		}
	}
	return nil
}

// layerSample is sample b of the output of the layer called name in tr,
// flattened (the trace's own data, not a copy). The layout, channels first
// or last, does not matter to the distances computed from it.
func layerSample(tr *nn.Trace, name string, b int) ([]float32, error) {
	_, st, ok := tr.Locate(name)
	if !ok {
		return nil, fmt.Errorf("experiment: the network has no layer %q", name)
	}
	n := st.Out.Shape[0]
	per := st.Out.Len() / n
	return st.Out.Data[b*per : (b+1)*per], nil
}

// classProbability is the softmax probability of class k in sample b of logits
// (N,K), computed in float64.
func classProbability(logits *nn.Tensor, b, k int) (float64, error) {
	if len(logits.Shape) != 2 || k < 0 || k >= logits.Shape[1] {
		return 0, fmt.Errorf("experiment: class %d of output %s, want logits (N,K) and 0 <= class < K", k, nn.ShapeString(logits.Shape))
	}
	kk := logits.Shape[1]
	row := logits.Data[b*kk : (b+1)*kk]
	top := math.Inf(-1)
	for _, v := range row {
		top = max(top, float64(v))
	}
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v) - top)
	}
	return math.Exp(float64(row[k])-top) / sum, nil
}

// checkOneSample reports whether x is one sample, (1,C,H,W).
func checkOneSample(x *nn.Tensor, what string) error {
	if x == nil || len(x.Shape) != 4 || x.Shape[0] != 1 {
		shape := "nil"
		if x != nil {
			shape = nn.ShapeString(x.Shape)
		}
		return fmt.Errorf("experiment: %s is %s, want one sample (1,C,H,W)", what, shape)
	}
	return nil
}
