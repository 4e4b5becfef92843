package nn

import (
	"math/rand/v2"
	"testing"
)

func TestPermuteMovesChannelsLast(t *testing.T) {
	x := New(2, 3, 2, 4) // x[n,c,h,w] = 1000n + 100c + 10h + w
	for n := 0; n < 2; n++ {
		for c := 0; c < 3; c++ {
			for h := 0; h < 2; h++ {
				for w := 0; w < 4; w++ {
					x.Data[((n*3+c)*2+h)*4+w] = float32(1000*n + 100*c + 10*h + w)
				}
			}
		}
	}
	y, _, err := NewPermute("p", 1, 2, 0).Forward(x, &Context{})
	if err != nil {
		t.Fatal(err)
	}
	if !SameShape(y.Shape, []int{2, 2, 4, 3}) {
		t.Fatalf("shape %v", y.Shape)
	}
	// y[1,1,2,0] = x[1,0,1,2] = 1012; y[0,0,3,2] = x[0,2,0,3] = 203.
	if got := y.Data[((1*2+1)*4+2)*3+0]; got != 1012 {
		t.Errorf("y[1,1,2,0] = %g, want 1012", got)
	}
	if got := y.Data[((0*2+0)*4+3)*3+2]; got != 203 {
		t.Errorf("y[0,0,3,2] = %g, want 203", got)
	}
	back, _, _ := NewPermute("q", 2, 0, 1).Forward(y, &Context{})
	for i, v := range back.Data {
		if v != x.Data[i] {
			t.Fatal("permuting back does not restore the input")
		}
	}
}

func TestStochasticDepthDropsWholeSamples(t *testing.T) {
	s := NewStochasticDepth("drop_path", 0.5)
	x := New(200, 2, 2, 2)
	fill(x.Data, 1)
	y, mask, err := s.Forward(x, &Context{Train: true, Rand: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	var kept int
	for n := 0; n < 200; n++ {
		first := y.Data[n*8]
		for _, v := range y.Data[n*8 : (n+1)*8] {
			if v != first || (v != 0 && v != 2) {
				t.Fatalf("sample %d mixes values: %v", n, y.Data[n*8:(n+1)*8])
			}
		}
		if first == 2 {
			kept++
		}
	}
	if kept < 70 || kept > 130 {
		t.Errorf("kept %d of 200 with p=0.5", kept)
	}
	dx, _ := s.Backward(y, &Step{Layer: s, In: x, Out: y, Saved: mask}, Gradient, nil)
	if dx.Data[0] != y.Data[0]*mask.([]float32)[0] {
		t.Error("backward ignores the mask")
	}
	if y2, _, _ := s.Forward(x, &Context{}); y2 != x {
		t.Error("eval-mode stochastic depth is not the identity")
	}
}

// A chain of two 3x3 convolutions sees 5x5 (VGG's argument); with a stride-2
// pool between them it sees 3 + 1 + 2*2 = 8 pixels, jump 2.
func TestComposedWindows(t *testing.T) {
	two := NewChain("two", NewConv2d("a", 1, 1, 3, 1, 1, false), NewReLU("r"), NewConv2d("b", 1, 1, 3, 1, 1, false))
	if k, s, p := two.Window(); k != 5 || s != 1 || p != 2 {
		t.Errorf("two 3x3: window (%d,%d,%d), want (5,1,2)", k, s, p)
	}
	pooled := NewChain("pooled", NewConv2d("a", 1, 1, 3, 1, 1, false), NewMaxPool2d("m", 2, 2, 0), NewConv2d("b", 1, 1, 3, 1, 1, false))
	if k, s, p := pooled.Window(); k != 8 || s != 2 || p != 3 {
		t.Errorf("conv-pool-conv: window (%d,%d,%d), want (8,2,3)", k, s, p)
	}
	res := NewResidual("res", two, NewChain("short", NewConv2d("s", 1, 1, 1, 1, 0, false)), nil)
	if k, _, _ := res.Window(); k != 5 {
		t.Errorf("residual window %d, want the body's 5", k)
	}
	if m := res.MACs([]int{1, 4, 4}); m != 9*16+9*16+16 {
		t.Errorf("residual MACs %d, want %d", m, 9*16+9*16+16)
	}
}

// A rotation of the axes (both of ConvNeXt's orders, and longer ones) runs
// as a transpose a sample; it must move every value where the index walk
// does, forward and back, on sizes with whole 16x16 blocks and ragged edges.
func TestPermuteRotationMatchesIndexWalk(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		order []int
		in    []int
	}{
		{[]int{1, 2, 0}, []int{20, 5, 7}},
		{[]int{2, 0, 1}, []int{6, 6, 33}},
		{[]int{2, 3, 0, 1}, []int{3, 7, 4, 9}},
		{[]int{1, 0}, []int{17, 40}},
		{[]int{0, 2, 1}, []int{2, 3, 4}}, // not a rotation: the walk itself
	} {
		p := NewPermute("p", tc.order...)
		if _, ok := p.rotation(); !ok && tc.order[0] != 0 {
			t.Fatalf("%v is a rotation", tc.order)
		}
		x := randTensor(r, append([]int{3}, tc.in...)...)
		got := p.permute(x, tc.in, false, nil)
		want := p.walk(x, tc.in, false)
		back := p.permute(got, tc.in, true, nil)
		for i := range want.Data {
			if got.Data[i] != want.Data[i] {
				t.Fatalf("%v on %v: y[%d] = %g, index walk %g", tc.order, tc.in, i, got.Data[i], want.Data[i])
			}
			if back.Data[i] != x.Data[i] {
				t.Fatalf("%v on %v: inverse[%d] = %g, want %g", tc.order, tc.in, i, back.Data[i], x.Data[i])
			}
		}
	}
}
