package nn

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// residualNet is a small ResNet stage on in channels: a block with the
// identity shortcut and one with a convolution's to 6 channels, both
// bodies ending in a batch norm.
func residualNet(rng *rand.Rand, in int) *Sequential {
	block := func(name string, in, out int) *Residual {
		body := NewChain(name+".body", NewConv2d(name+".body.0", in, out, 3, 1, 1, false), NewBatchNorm2d(name+".body.1", out), NewReLU(name+".body.2"),
			NewConv2d(name+".body.3", out, out, 3, 1, 1, false), NewBatchNorm2d(name+".body.4", out))
		var short *Chain
		if in != out {
			short = NewChain(name+".down", NewConv2d(name+".down.0", in, out, 1, 1, 0, false), NewBatchNorm2d(name+".down.1", out))
		}
		return NewResidual(name, body, short, NewReLU(name+".relu"))
	}
	net := &Sequential{Layers: []Layer{block("a", in, in), block("b", in, 6), NewFlatten("flat"), NewLinear("fc", 6*6*6, 3, true)}}
	Init(net.Layers, rng)
	for _, p := range net.Params() { // batch norms away from the identity
		if len(p.Value.Shape) == 1 {
			copy(p.Value.Data, randTensor(rng, p.Value.Shape...).Data)
		}
	}
	return net
}

// bodyTail is the last step of block i's body in tr, and the block's output.
func bodyTail(tr *Trace, i int) (last Step, out *Tensor) {
	rs := tr.Steps[i].Saved.(residualSaved)
	steps := rs.body.Saved.(*Trace).Steps
	return steps[len(steps)-1], tr.Steps[i].Out
}

// A training pass that writes rectifiers over their input runs each
// block's last batch norm with the residual sum and its rectifier in the
// norm's pass (Residual.forwardTail): the same bits, forward and
// backward, as the plain pass, the norm's step holding the sum; a Keep
// naming the norm turns it off.
func TestResidualTailInTraining(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	net := residualNet(rng, 4)
	x, dy := randTensor(rng, 3, 4, 6, 6), randTensor(rng, 3, 3)
	run := func(ctx *Context) (*Trace, Grads, *Tensor) {
		tr, err := net.Forward(x, ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		g := Grads{}
		dx, err := net.Backward(tr, len(tr.Steps)-1, dy, Gradient, g)
		if err != nil {
			t.Fatal(err)
		}
		return tr, g, dx
	}
	plainTr, plainG, plainDx := run(&Context{Train: true})
	fusedTr, fusedG, fusedDx := run(&Context{Train: true, InPlace: true})
	if !slices.Equal(plainTr.Output().Data, fusedTr.Output().Data) || !slices.Equal(plainDx.Data, fusedDx.Data) {
		t.Error("the fused tail changed the output or the input gradient")
	}
	for _, p := range net.Params() {
		if !slices.Equal(plainG.For(p).Data, fusedG.For(p).Data) {
			t.Errorf("the fused tail changed %s's gradient", p.Name)
		}
	}
	for i := range 2 {
		last, out := bodyTail(fusedTr, i)
		if _, ok := last.Layer.(*BatchNorm2d); !ok || last.Out != out {
			t.Errorf("block %d: the last norm's step holds %p, the block's output is %p", i, last.Out, out)
		}
		if last, out := bodyTail(plainTr, i); last.Out == out {
			t.Errorf("block %d: a pass that keeps rectifiers apart fused the tail", i)
		}
	}
	keptTr, _, _ := run(&Context{Train: true, InPlace: true, Keep: "b.body.4"})
	if last, out := bodyTail(keptTr, 1); last.Out == out {
		t.Error("a kept norm's output was the residual sum")
	}
	if last, out := bodyTail(keptTr, 0); last.Out != out {
		t.Error("a Keep inside another block turned this one's fused tail off")
	}
}

// A fused evaluation adds the shortcut in the last convolution's copy-out
// where it takes the shifted path (at least 4 input channels), within
// float32 rounding of the plain pass (the batch norm folded into the
// convolution); a body whose last convolution has 3 input channels runs
// the usual way.
func TestResidualTailInFusedEvaluation(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	net := residualNet(rng, 3)
	for _, n := range []int{3, 1} {
		x := randTensor(rng, n, 3, 6, 6)
		plain, err := net.Forward(x, &Context{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		fused, err := net.Forward(x, &Context{Fuse: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		closeSlices(t, ConvConfig{}, "logits", fused.Output().Data, plain.Output().Data)
		for i, want := range []bool{false, true} {
			if last, out := bodyTail(fused, i); (last.Out == out) != want {
				t.Errorf("%d samples, block %d: tail fused %v", n, i, !want)
			}
		}
	}
}
