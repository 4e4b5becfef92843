package nn

import (
	"strings"
	"testing"
)

// Every layer that constrains its input rejects a wrong one with an error
// naming the layer and the shape it got, instead of panicking in a loop.
func TestWrongShapesAreErrors(t *testing.T) {
	for _, tc := range []struct {
		l  Layer
		in []int
	}{
		{NewConv2d("features.0", 3, 8, 3, 1, 1, true), []int{1, 1, 8, 8}},
		{NewConv2d("tiny", 1, 1, 5, 1, 0, true), []int{1, 1, 3, 3}},
		{NewConv2d("rank", 1, 1, 3, 1, 0, true), []int{1, 9}},
		{NewConvTranspose2d("up", 4, 2, 3, 2, 1, 0, true), []int{1, 3, 4, 4}},
		{NewMaxPool2d("mp", 3, 2, 0), []int{1, 2, 2, 2}},
		{NewAvgPool2d("ap", 2, 2, 0), []int{2, 8}},
		{NewAdaptiveAvgPool2d("gap", 1, 1), []int{2, 8}},
		{NewLinear("fc", 10, 2, true), []int{2, 9}},
		{NewBatchNorm2d("bn", 4), []int{2, 3, 4, 4}},
		{NewLayerNorm("ln", 4, 1e-5, true), []int{2, 3, 4, 4}},
		{NewLayerNorm("ln_last", 4, 1e-5, false), []int{2, 3}},
		{NewLocalResponseNorm("lrn", 5, 1e-4, 0.75, 1), []int{2, 3}},
		{NewLayerScale("gamma", 4, 1), []int{2, 3, 2, 2}},
		{NewPermute("perm", 1, 2, 0), []int{2, 3}},
		{NewShortcutA("short", 4, 8, 2), []int{1, 3, 4, 4}},
		{NewResidual("res", NewChain("body", NewConv2d("body.0", 2, 3, 3, 1, 1, false)), nil, nil), []int{1, 2, 4, 4}},
		{NewConcat("cat", NewChain("a", NewConv2d("a.0", 2, 3, 1, 1, 0, false)), NewChain("b", NewConv2d("b.0", 2, 3, 3, 1, 0, false))), []int{1, 2, 4, 4}},
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: panic %v", tc.l.Name(), r)
				}
			}()
			_, _, err := tc.l.Forward(New(tc.in...), &Context{Train: true})
			if err == nil {
				t.Errorf("%s (%s) accepted shape %v", tc.l.Name(), tc.l.Type(), tc.in)
				return
			}
			if !strings.Contains(err.Error(), tc.l.Name()) {
				t.Errorf("%s: error %q does not name the layer", tc.l.Name(), err)
			}
		}()
	}
}
