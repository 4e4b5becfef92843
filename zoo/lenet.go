package zoo

import "github.com/convscope/convscope/nn"

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
