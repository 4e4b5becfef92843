package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// slicerNet is a small evaluation network with every kind of layer whose
// batch pass the slicing changes: a product over several samples (the
// convolutions), a depthwise convolution, a fused batch norm, pooling and a
// linear layer.
func slicerNet(rng *rand.Rand) *Sequential {
	dw := NewConv2d("dw", 6, 6, 3, 2, 1, false)
	dw.Groups = 6
	net := &Sequential{Layers: []Layer{
		NewConv2d("conv1", 2, 6, 3, 1, 1, false), NewBatchNorm2d("bn1", 6), NewReLU("relu1"),
		dw, NewBatchNorm2d("bn2", 6), NewReLU6("relu2"),
		NewMaxPool2d("pool", 2, 2, 0), NewFlatten("flat"), NewLinear("fc", 6*3*3, 5, true),
	}}
	Init(net.Layers, rng)
	for _, l := range []*BatchNorm2d{net.Layers[1].(*BatchNorm2d), net.Layers[4].(*BatchNorm2d)} {
		for i := range l.RunningMean.Value.Data {
			l.RunningMean.Value.Data[i], l.RunningVar.Value.Data[i] = float32(rng.NormFloat64()), 0.5+rng.Float32()
		}
	}
	return net
}

// A sliced pass gives every sample what the whole batch's pass gives it,
// for slices that divide the batch and slices that do not, and one slice
// larger than the batch. Not always to the bit: a convolution picks its
// product (direct, unrolled, implicit) by the batch's size, and the
// products sum a value's terms in different orders.
func TestSlicerMatchesTheWholeBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	net := slicerNet(rng)
	x := randTensor(rng, 37, 2, 12, 12)
	whole, err := net.Forward(x, &Context{Fuse: true, InPlace: true, Arena: NewArena()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := whole.Output()
	for _, slice := range []int{5, 16, 37, 64, 2, 1} {
		s := &Slicer{Slice: slice}
		for range 2 { // the second run reuses the arenas
			got, err := s.Logits(net, x, NewArena())
			if err != nil {
				t.Fatal(err)
			}
			if !SameShape(got.Shape, want.Shape) {
				t.Fatalf("slice %d: shape %v, want %v", slice, got.Shape, want.Shape)
			}
			for i := range want.Data {
				if math.Abs(float64(got.Data[i]-want.Data[i])) > 1e-5*(1+math.Abs(float64(want.Data[i]))) {
					t.Fatalf("slice %d: output %d is %v, the whole batch's %v", slice, i, got.Data[i], want.Data[i])
				}
			}
		}
	}
}

// A slice's error is the run's error, and a pass that answers with the
// wrong number of samples or with per-sample shapes that differ between
// slices is refused.
func TestSlicerReportsFailures(t *testing.T) {
	x := New(10, 3)
	for i := range x.Data {
		x.Data[i] = float32(i / 3) // each sample holds its index
	}
	s := &Slicer{Slice: 3}
	broken := errors.New("slice failed")
	_, err := s.Run(x, nil, func(x *Tensor, a *Arena) (*Tensor, error) {
		if x.Data[0] == 6 {
			return nil, broken
		}
		return x, nil
	})
	if !errors.Is(err, broken) {
		t.Errorf("a failing slice: error %v", err)
	}
	_, err = s.Run(x, nil, func(x *Tensor, a *Arena) (*Tensor, error) { return nil, nil })
	if err == nil || !strings.Contains(err.Error(), "no output") {
		t.Errorf("no output and no error: error %v", err)
	}
	_, err = s.Run(x, nil, func(x *Tensor, a *Arena) (*Tensor, error) { return New(1, 3), nil })
	if err == nil || !strings.Contains(err.Error(), "slice of 3 samples") {
		t.Errorf("an output of one sample for three: error %v", err)
	}
	_, err = s.Run(x, nil, func(x *Tensor, a *Arena) (*Tensor, error) { return New(x.Shape[0], int(x.Data[0])+1), nil })
	if err == nil || !strings.Contains(err.Error(), "per sample") {
		t.Errorf("outputs of different shapes: error %v", err)
	}
	got, err := s.Run(x, nil, func(x *Tensor, a *Arena) (*Tensor, error) {
		y := a.Uninit(x.Shape[0], 1)
		for i := range y.Data {
			y.Data[i] = x.Data[i*3] * 2
		}
		return y, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got.Data {
		if v != float32(2*i) {
			t.Fatalf("sample %d: %v, want %d", i, v, 2*i)
		}
	}
	if _, err := s.Run(New(0, 3), nil, func(x *Tensor, a *Arena) (*Tensor, error) { return x, nil }); err == nil {
		t.Error("an empty batch ran")
	}
}
