package zoo

import (
	"fmt"

	"github.com/convscope/convscope/nn"
)

// GoogLeNet / Inception v1 (Szegedy et al. 2014): Inception modules run
// 1x1, 3x3 and 5x5 convolutions and a pooling side by side and concatenate
// them; 1x1 convolutions first reduce the channels, so the wide module stays
// cheap (the seed's (28,28,192) -> (28,28,32) example). torchvision's form,
// whose "5x5" branch uses a 3x3 kernel as its weights do; auxiliary
// classifiers are not built (they only add a training loss).
//
//	googlenet        torchvision's (6,624,904 parameters without aux), 224 input
//	googlenet_small  the same modules at 1/4 width after a small stem, for 28/32 inputs

func init() {
	register(Family{Name: "googlenet", Description: "GoogLeNet / Inception v1 as torchvision (BatchNorm, no auxiliary heads)",
		Input: []int{3, 224, 224}, Classes: 1000, build: googlenet})
	register(Family{Name: "googlenet_aux", Description: "GoogLeNet with its two auxiliary classifiers (training losses weighted 0.3)",
		Input: []int{3, 224, 224}, Classes: 1000, build: func(in []int, classes int) ([]nn.Layer, error) {
			ls, err := googlenet(in, classes)
			if err != nil {
				return nil, err
			}
			var out []nn.Layer
			for _, l := range ls {
				out = append(out, l)
				switch l.Name() {
				case "inception4a":
					out = append(out, inceptionAux("aux1", 512, classes))
				case "inception4d":
					out = append(out, inceptionAux("aux2", 528, classes))
				}
			}
			return out, nil
		}})
	register(Family{Name: "googlenet_small", Description: "Inception modules at 1/4 width for small images",
		Input: []int{1, 28, 28}, Classes: 10, build: googlenetSmall})
}

// basicConv is torchvision's BasicConv2d: conv (no bias), BN (eps 1e-3), ReLU.
func basicConv(name string, in, out, k, stride, pad int) []nn.Layer {
	bn := nn.NewBatchNorm2d(name+".bn", out)
	bn.Eps = 1e-3
	return []nn.Layer{nn.NewConv2d(name+".conv", in, out, k, stride, pad, false), bn, nn.NewReLU(name + ".relu")}
}

// inception is torchvision's Inception(in, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj).
func inception(name string, in, c1, c3r, c3, c5r, c5, pp int) *nn.Concat {
	b := func(i int) string { return fmt.Sprintf("%s.branch%d", name, i) }
	return nn.NewConcat(name,
		nn.NewChain(b(1), basicConv(b(1), in, c1, 1, 1, 0)...),
		nn.NewChain(b(2), append(basicConv(b(2)+".0", in, c3r, 1, 1, 0), basicConv(b(2)+".1", c3r, c3, 3, 1, 1)...)...),
		nn.NewChain(b(3), append(basicConv(b(3)+".0", in, c5r, 1, 1, 0), basicConv(b(3)+".1", c5r, c5, 3, 1, 1)...)...),
		nn.NewChain(b(4), append([]nn.Layer{nn.NewMaxPool(b(4)+".0", nn.PoolConfig{Kernel: 3, Stride: 1, Padding: 1, CeilMode: true})},
			basicConv(b(4)+".1", in, pp, 1, 1, 0)...)...),
	)
}

func ceilPool(name string, k, s int) nn.Layer {
	return nn.NewMaxPool(name, nn.PoolConfig{Kernel: k, Stride: s, CeilMode: true})
}

// inceptionStages is GoogLeNet from inception3a on, with widths divided by div.
func inceptionStages(in, div int) ([]nn.Layer, int) {
	d := func(v int) int { return max(v/div, 1) }
	type spec struct {
		name                       string
		c1, c3r, c3, c5r, c5, pool int
	}
	var ls []nn.Layer
	for _, s := range []spec{
		{"inception3a", 64, 96, 128, 16, 32, 32}, {"inception3b", 128, 128, 192, 32, 96, 64}, {"maxpool3", 0, 0, 0, 0, 0, 0},
		{"inception4a", 192, 96, 208, 16, 48, 64}, {"inception4b", 160, 112, 224, 24, 64, 64}, {"inception4c", 128, 128, 256, 24, 64, 64},
		{"inception4d", 112, 144, 288, 32, 64, 64}, {"inception4e", 256, 160, 320, 32, 128, 128}, {"maxpool4", 0, 0, 0, 0, 0, 0},
		{"inception5a", 256, 160, 320, 32, 128, 128}, {"inception5b", 384, 192, 384, 48, 128, 128},
	} {
		switch s.name {
		case "maxpool3":
			ls = append(ls, ceilPool(s.name, 3, 2))
			continue
		case "maxpool4":
			ls = append(ls, ceilPool(s.name, 2, 2))
			continue
		}
		ls = append(ls, inception(s.name, in, d(s.c1), d(s.c3r), d(s.c3), d(s.c5r), d(s.c5), d(s.pool)))
		in = d(s.c1) + d(s.c3) + d(s.c5) + d(s.pool)
	}
	return ls, in
}

func googlenet(in []int, classes int) ([]nn.Layer, error) {
	var ls []nn.Layer
	ls = append(ls, basicConv("conv1", in[0], 64, 7, 2, 3)...)
	ls = append(ls, ceilPool("maxpool1", 3, 2))
	ls = append(ls, basicConv("conv2", 64, 64, 1, 1, 0)...)
	ls = append(ls, basicConv("conv3", 64, 192, 3, 1, 1)...)
	ls = append(ls, ceilPool("maxpool2", 3, 2))
	stages, width := inceptionStages(192, 1)
	ls = append(ls, stages...)
	return append(ls, nn.NewAdaptiveAvgPool2d("avgpool", 1, 1), nn.NewFlatten("flatten"),
		nn.NewDropout("dropout", 0.2), nn.NewLinear("fc", width, classes, true)), nil
}

// googlenetSmall keeps every Inception module at 1/4 width after a 3x3
// stem without striding, and drops maxpool4 so that 28x28 inputs keep a 3x3 map.
func googlenetSmall(in []int, classes int) ([]nn.Layer, error) {
	var ls []nn.Layer
	ls = append(ls, basicConv("conv1", in[0], 32, 3, 1, 1)...)
	ls = append(ls, ceilPool("maxpool2", 3, 2)) // 28 -> 14
	ls = append(ls, basicConv("conv3", 32, 48, 3, 1, 1)...)
	stages, width := inceptionStages(48, 4)
	for _, l := range stages {
		if l.Name() == "maxpool4" {
			continue
		}
		ls = append(ls, l) // maxpool3: 14 -> 7
	}
	return append(ls, nn.NewAdaptiveAvgPool2d("avgpool", 1, 1), nn.NewFlatten("flatten"),
		nn.NewDropout("dropout", 0.2), nn.NewLinear("fc", width, classes, true)), nil
}

// inceptionAux is torchvision's InceptionAux: average-pool to 4x4, a 1x1
// BasicConv2d to 128 channels, fc1 (2048 -> 1024) with ReLU, dropout 0.7,
// fc2 to the classes; its loss counts 0.3.
func inceptionAux(name string, in, classes int) nn.Layer {
	ls := append([]nn.Layer{nn.NewAdaptiveAvgPool2d(name+".pool", 4, 4)}, basicConv(name+".conv", in, 128, 1, 1, 0)...)
	ls = append(ls, nn.NewFlatten(name+".flatten"), nn.NewLinear(name+".fc1", 2048, 1024, true), nn.NewReLU(name+".relu"),
		nn.NewDropout(name+".dropout", 0.7), nn.NewLinear(name+".fc2", 1024, classes, true))
	return nn.NewAuxHead(name, nn.NewChain(name, ls...), 0.3)
}
