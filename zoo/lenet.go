package zoo

import (
	"fmt"

	"github.com/convscope/convscope/nn"
)

// LeNet-5 in two forms.
//
// "lenet5" is the 1998 paper's network as the seed describes it, with the
// plain full C3 connections and average pooling for the subsampling layers:
//
//	C1 conv 6@5x5 pad 2 -> tanh -> S2 avgpool 2 -> C3 conv 16@5x5 -> tanh ->
//	S4 avgpool 2 -> C5 conv 120@5x5 -> tanh -> F6 linear 84 -> tanh -> 10
//
// Its parameter names (c1, c3, c5, f6, out) are those of
// ../shared/tools/torch_anchor.py's LeNet5.
//
// "lenet5_1998" is the paper exactly as far as a classifier goes: the
// squashing function 1.7159 tanh(2a/3), trainable subsampling (a
// coefficient and a bias per map) in S2 and S4, and C3's connection table
// (Table I: each of the 16 maps sees 3, 4 or all 6 of S2's maps, 60
// connections, 1,516 parameters instead of 2,416), built as 16 branches that
// each select their input maps; the output is a linear layer where the paper
// has Euclidean RBF units.
//
// "lenet5_seed" is the seed's code version: conv 64@5x5, ReLU, maxpool 2,
// conv 128@5x5, ReLU, maxpool 2, linear 1024, 1024, classes, with ReLUs.

func init() {
	register(Family{
		Name:        "lenet5",
		Description: "LeNet-5 (LeCun et al. 1998): tanh, average-pool subsampling, C5 as a 5x5 convolution",
		Input:       []int{1, 28, 28}, Classes: 10,
		build: func(in []int, k int) ([]nn.Layer, error) {
			features := []nn.Layer{
				nn.NewConv2d("c1", in[0], 6, 5, 1, 2, true), nn.NewTanh("c1.act"), nn.NewAvgPool2d("s2", 2, 2, 0),
				nn.NewConv2d("c3", 6, 16, 5, 1, 0, true), nn.NewTanh("c3.act"), nn.NewAvgPool2d("s4", 2, 2, 0),
				nn.NewConv2d("c5", 16, 120, 5, 1, 0, true), nn.NewTanh("c5.act"), nn.NewFlatten("flatten"),
			}
			flat, err := outputSize(features, in)
			if err != nil {
				return nil, err
			}
			return append(features,
				nn.NewLinear("f6", flat, 84, true), nn.NewTanh("f6.act"),
				nn.NewLinear("out", 84, k, true)), nil
		},
	})
	register(Family{
		Name:        "lenet5_1998",
		Description: "LeNet-5 as the 1998 paper: C3 connection table, trainable subsampling, scaled tanh",
		Input:       []int{1, 28, 28}, Classes: 10,
		build: func(in []int, k int) ([]nn.Layer, error) {
			features := []nn.Layer{
				nn.NewConv2d("c1", in[0], 6, 5, 1, 2, true), nn.NewLeCunTanh("c1.act"),
				nn.NewSubsample("s2", 6, 2), nn.NewLeCunTanh("s2.act"),
				c3Table("c3"), nn.NewLeCunTanh("c3.act"),
				nn.NewSubsample("s4", 16, 2), nn.NewLeCunTanh("s4.act"),
				nn.NewConv2d("c5", 16, 120, 5, 1, 0, true), nn.NewLeCunTanh("c5.act"), nn.NewFlatten("flatten"),
			}
			flat, err := outputSize(features, in)
			if err != nil {
				return nil, err
			}
			return append(features,
				nn.NewLinear("f6", flat, 84, true), nn.NewLeCunTanh("f6.act"),
				nn.NewLinear("out", 84, k, true)), nil
		},
	})
	register(Family{
		Name:        "lenet5_seed",
		Description: "the seed's LeNet code: conv 64 and 128 (5x5, ReLU, max-pool), linear 1024-1024",
		Input:       []int{1, 28, 28}, Classes: 10,
		build: func(in []int, k int) ([]nn.Layer, error) {
			features := []nn.Layer{
				nn.NewConv2d("conv1", in[0], 64, 5, 1, 0, true), nn.NewReLU("relu1"), nn.NewMaxPool2d("pool1", 2, 2, 0),
				nn.NewConv2d("conv2", 64, 128, 5, 1, 0, true), nn.NewReLU("relu2"), nn.NewMaxPool2d("pool2", 2, 2, 0),
				nn.NewFlatten("flatten"),
			}
			flat, err := outputSize(features, in)
			if err != nil {
				return nil, err
			}
			return append(features,
				nn.NewLinear("fc1", flat, 1024, true), nn.NewReLU("relu3"),
				nn.NewLinear("fc2", 1024, 1024, true), nn.NewReLU("relu4"),
				nn.NewLinear("fc3", 1024, k, true)), nil
		},
	})
}

// outputSize runs shape inference through layers and returns the number of
// elements of the last output (the in-features of the first linear layer).
func outputSize(layers []nn.Layer, in []int) (int, error) {
	shape := in
	for _, l := range layers {
		var err error
		if shape, err = l.OutputShape(shape); err != nil {
			return 0, err
		}
	}
	return nn.Numel(shape), nil
}

// c3Connections is Table I of LeCun et al. 1998: the S2 maps each C3 map sees.
var c3Connections = [16][]int{
	{0, 1, 2}, {1, 2, 3}, {2, 3, 4}, {3, 4, 5}, {0, 4, 5}, {0, 1, 5},
	{0, 1, 2, 3}, {1, 2, 3, 4}, {2, 3, 4, 5}, {0, 3, 4, 5}, {0, 1, 4, 5}, {0, 1, 2, 5},
	{0, 1, 3, 4}, {1, 2, 4, 5}, {0, 2, 3, 5},
	{0, 1, 2, 3, 4, 5},
}

// c3Table is C3 with its connection table: one branch per output map,
// selecting its input maps and convolving them to one 10x10 map.
func c3Table(name string) nn.Layer {
	branches := make([]*nn.Chain, len(c3Connections))
	for i, inputs := range c3Connections {
		b := fmt.Sprintf("%s.%d", name, i)
		branches[i] = nn.NewChain(b, nn.NewSelectChannels(b+".select", 6, inputs...), nn.NewConv2d(b+".conv", len(inputs), 1, 5, 1, 0, true))
	}
	return nn.NewConcat(name, branches...)
}
