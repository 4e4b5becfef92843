package zoo

import "github.com/convscope/convscope/nn"

// AlexNet (Krizhevsky, Sutskever & Hinton 2012) and ZFNet (Zeiler & Fergus
// 2013), the network the deconvnet was invented to inspect, with the
// changes the visualisations suggested: 7x7 stride-2 first filters instead
// of 11x11 stride 4, stride 2 in the second layer.
//
//	alexnet        torchvision's single-tower form (61,100,840 parameters)
//	alexnet_paper  the 2012 form: 96-256-384-384-256 filters, LRN after the
//	               first two layers, overlapping 3/2 max-pooling and the two
//	               GPU towers as groups=2 in conv2, conv4 and conv5 (227 input)
//	zfnet          the 2013 paper's Figure 3 (224 input)
//	alexnet_small  AlexNet's shape for 28x28 or 32x32 inputs
//	zfnet_small    ZFNet's shape for 28x28 or 32x32 inputs

func init() {
	register(Family{Name: "alexnet", Description: "AlexNet as torchvision builds it (single tower, no LRN)",
		Input: []int{3, 224, 224}, Classes: 1000, build: alexnetTorchvision})
	register(Family{Name: "alexnet_paper", Description: "AlexNet 2012: LRN, overlapping pooling, two towers as groups",
		Input: []int{3, 227, 227}, Classes: 1000, build: alexnetPaper})
	register(Family{Name: "zfnet", Description: "ZFNet (Zeiler & Fergus 2013): 7x7/2 first layer, LRN, 3x3/2 pooling",
		Input: []int{3, 224, 224}, Classes: 1000, build: zfnet})
	register(Family{Name: "alexnet_small", Description: "AlexNet's shape for small images: 5 convs (ReLU, overlapping max-pool), 3 linear layers with dropout",
		Input: []int{1, 28, 28}, Classes: 10, build: alexnetSmall})
	register(Family{Name: "zfnet_small", Description: "ZFNet's shape for small images: smaller first filters with stride, LRN",
		Input: []int{1, 28, 28}, Classes: 10, build: zfnetSmall})
}

func alexnetTorchvision(in []int, classes int) ([]nn.Layer, error) {
	f := &numbered{prefix: "features"}
	f.convReLU(in[0], 64, 11, 4, 2)
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 0))
	f.convReLU(64, 192, 5, 1, 2)
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 0))
	f.convReLU(192, 384, 3, 1, 1)
	f.convReLU(384, 256, 3, 1, 1)
	f.convReLU(256, 256, 3, 1, 1)
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 0))
	return withHead(f.layers, in, 6, 6, func(flat int) []nn.Layer {
		return classifier("classifier", flat, 4096, classes, 0.5, true)
	})
}

// lrn is AlexNet's normalisation: size 5, alpha 1e-4, beta 0.75, k 2.
func lrn(name string) nn.Layer { return nn.NewLocalResponseNorm(name, 5, 1e-4, 0.75, 2) }

func alexnetPaper(in []int, classes int) ([]nn.Layer, error) {
	f := &numbered{prefix: "features"}
	grouped := func(cin, cout, k, pad int) {
		f.add(nn.NewConv(f.next(), nn.ConvConfig{In: cin, Out: cout, Kernel: k, Padding: pad, Groups: 2, Bias: true}))
		f.add(nn.NewReLU(f.next()))
	}
	f.convReLU(in[0], 96, 11, 4, 0)
	f.add(lrn(f.next()))
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 0))
	grouped(96, 256, 5, 2)
	f.add(lrn(f.next()))
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 0))
	f.convReLU(256, 384, 3, 1, 1)
	grouped(384, 384, 3, 1)
	grouped(384, 256, 3, 1)
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 0))
	return withHead(f.layers, in, 0, 0, func(flat int) []nn.Layer {
		return classifier("classifier", flat, 4096, classes, 0.5, true)
	})
}

func zfnet(in []int, classes int) ([]nn.Layer, error) {
	f := &numbered{prefix: "features"}
	f.convReLU(in[0], 96, 7, 2, 1) // 224 -> 110
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 1))
	f.add(lrn(f.next()))         // 110 -> 55
	f.convReLU(96, 256, 5, 2, 0) // 55 -> 26
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 1))
	f.add(lrn(f.next())) // 26 -> 13
	f.convReLU(256, 384, 3, 1, 1)
	f.convReLU(384, 384, 3, 1, 1)
	f.convReLU(384, 256, 3, 1, 1)
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 0)) // 13 -> 6
	return withHead(f.layers, in, 0, 0, func(flat int) []nn.Layer {
		return classifier("classifier", flat, 4096, classes, 0.5, true)
	})
}

func alexnetSmall(in []int, classes int) ([]nn.Layer, error) {
	f := &numbered{prefix: "features"}
	f.convReLU(in[0], 32, 5, 1, 2)
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 0)) // 28 -> 13, 32 -> 15
	f.convReLU(32, 64, 5, 1, 2)
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 0)) // 13 -> 6, 15 -> 7
	f.convReLU(64, 96, 3, 1, 1)
	f.convReLU(96, 96, 3, 1, 1)
	f.convReLU(96, 64, 3, 1, 1)
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 0)) // 6 -> 2, 7 -> 3
	return withHead(f.layers, in, 0, 0, func(flat int) []nn.Layer {
		return classifier("classifier", flat, 512, classes, 0.5, true)
	})
}

func zfnetSmall(in []int, classes int) ([]nn.Layer, error) {
	f := &numbered{prefix: "features"}
	f.convReLU(in[0], 32, 3, 1, 1)
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 1))
	f.add(lrn(f.next())) // 28 -> 14
	f.convReLU(32, 64, 3, 1, 1)
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 1))
	f.add(lrn(f.next())) // 14 -> 7
	f.convReLU(64, 96, 3, 1, 1)
	f.convReLU(96, 96, 3, 1, 1)
	f.convReLU(96, 64, 3, 1, 1)
	f.add(nn.NewMaxPool2d(f.next(), 3, 2, 0)) // 7 -> 3
	return withHead(f.layers, in, 0, 0, func(flat int) []nn.Layer {
		return classifier("classifier", flat, 512, classes, 0.5, true)
	})
}
