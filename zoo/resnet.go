package zoo

import (
	"fmt"

	"github.com/convscope/convscope/nn"
)

// ResNet (He et al. 2015): residual blocks whose identity shortcuts let the
// signal, and the gradient, skip layers.
//
//	resnet18 resnet34 (basic blocks), resnet50 resnet101 resnet152
//	(bottlenecks): torchvision's v1.5 (stride in the 3x3 conv), 224 input.
//	resnet20 resnet32 resnet44 resnet56: the paper's CIFAR networks, 6n+2
//	layers in three stages of 16, 32 and 64 channels, with option A
//	(zero-padding identity) shortcuts; the _b forms use option B
//	(1x1 projection) where the shape changes, the two the seed contrasts.

func init() {
	for _, v := range []struct {
		depth      int
		bottleneck bool
		blocks     [4]int
	}{{18, false, [4]int{2, 2, 2, 2}}, {34, false, [4]int{3, 4, 6, 3}}, {50, true, [4]int{3, 4, 6, 3}},
		{101, true, [4]int{3, 4, 23, 3}}, {152, true, [4]int{3, 8, 36, 3}}} {
		kind := "basic blocks"
		if v.bottleneck {
			kind = "bottleneck blocks"
		}
		register(Family{Name: fmt.Sprintf("resnet%d", v.depth), Description: fmt.Sprintf("ResNet-%d (%s), as torchvision", v.depth, kind),
			Input: []int{3, 224, 224}, Classes: 1000,
			build: func(in []int, classes int) ([]nn.Layer, error) {
				return resnetImageNet(in, classes, v.bottleneck, v.blocks)
			}})
	}
	for _, n := range []int{3, 5, 7, 9} {
		for _, optionB := range []bool{false, true} {
			name, desc := fmt.Sprintf("resnet%d", 6*n+2), fmt.Sprintf("CIFAR ResNet-%d (3 stages x %d basic blocks, 16/32/64 channels), option A shortcuts", 6*n+2, n)
			if optionB {
				name, desc = name+"_b", desc[:len(desc)-len("option A shortcuts")]+"option B (projection) shortcuts"
			}
			register(Family{Name: name, Description: desc, Input: []int{3, 32, 32}, Classes: 10,
				build: func(in []int, classes int) ([]nn.Layer, error) { return resnetCIFAR(in, classes, n, optionB) }})
		}
	}
}

// basicBlock is torchvision's BasicBlock: conv3x3(stride)-bn-relu-conv3x3-bn,
// plus the shortcut, then ReLU. shortcut is nil for the identity.
func basicBlock(name string, in, out, stride int, shortcut *nn.Chain) nn.Layer {
	body := nn.NewChain(name,
		nn.NewConv2d(name+".conv1", in, out, 3, stride, 1, false), nn.NewBatchNorm2d(name+".bn1", out), nn.NewReLU(name+".relu1"),
		nn.NewConv2d(name+".conv2", out, out, 3, 1, 1, false), nn.NewBatchNorm2d(name+".bn2", out))
	return nn.NewResidual(name, body, shortcut, nn.NewReLU(name+".relu"))
}

// bottleneck is torchvision's Bottleneck (v1.5): 1x1 reduce, 3x3 (stride),
// 1x1 expand to 4x, with BN after each and ReLU after the first two.
func bottleneck(name string, in, width, stride int, shortcut *nn.Chain) nn.Layer {
	out := width * 4
	body := nn.NewChain(name,
		nn.NewConv2d(name+".conv1", in, width, 1, 1, 0, false), nn.NewBatchNorm2d(name+".bn1", width), nn.NewReLU(name+".relu1"),
		nn.NewConv2d(name+".conv2", width, width, 3, stride, 1, false), nn.NewBatchNorm2d(name+".bn2", width), nn.NewReLU(name+".relu2"),
		nn.NewConv2d(name+".conv3", width, out, 1, 1, 0, false), nn.NewBatchNorm2d(name+".bn3", out))
	return nn.NewResidual(name, body, shortcut, nn.NewReLU(name+".relu"))
}

// projection is option B: conv1x1(stride) + BN, torchvision's "downsample".
func projection(name string, in, out, stride int) *nn.Chain {
	return nn.NewChain(name+".downsample",
		nn.NewConv2d(name+".downsample.0", in, out, 1, stride, 0, false), nn.NewBatchNorm2d(name+".downsample.1", out))
}

func resnetImageNet(in []int, classes int, useBottleneck bool, blocks [4]int) ([]nn.Layer, error) {
	ls := []nn.Layer{
		nn.NewConv2d("conv1", in[0], 64, 7, 2, 3, false), nn.NewBatchNorm2d("bn1", 64), nn.NewReLU("relu"),
		nn.NewMaxPool2d("maxpool", 3, 2, 1),
	}
	expansion := 1
	if useBottleneck {
		expansion = 4
	}
	inplanes := 64
	for stage, n := range blocks {
		planes := 64 << stage
		var stageBlocks []nn.Layer
		for b := 0; b < n; b++ {
			name := fmt.Sprintf("layer%d.%d", stage+1, b)
			stride := 1
			if b == 0 && stage > 0 {
				stride = 2
			}
			var short *nn.Chain
			if stride != 1 || inplanes != planes*expansion {
				short = projection(name, inplanes, planes*expansion, stride)
			}
			if useBottleneck {
				stageBlocks = append(stageBlocks, bottleneck(name, inplanes, planes, stride, short))
			} else {
				stageBlocks = append(stageBlocks, basicBlock(name, inplanes, planes, stride, short))
			}
			inplanes = planes * expansion
		}
		ls = append(ls, nn.NewChain(fmt.Sprintf("layer%d", stage+1), stageBlocks...))
	}
	return append(ls, nn.NewAdaptiveAvgPool2d("avgpool", 1, 1), nn.NewFlatten("flatten"), nn.NewLinear("fc", inplanes, classes, true)), nil
}

func resnetCIFAR(in []int, classes, n int, optionB bool) ([]nn.Layer, error) {
	ls := []nn.Layer{nn.NewConv2d("conv1", in[0], 16, 3, 1, 1, false), nn.NewBatchNorm2d("bn1", 16), nn.NewReLU("relu")}
	inplanes := 16
	for stage := 0; stage < 3; stage++ {
		planes := 16 << stage
		var stageBlocks []nn.Layer
		for b := 0; b < n; b++ {
			name := fmt.Sprintf("layer%d.%d", stage+1, b)
			stride := 1
			if b == 0 && stage > 0 {
				stride = 2
			}
			var short *nn.Chain
			if stride != 1 || inplanes != planes {
				if optionB {
					short = projection(name, inplanes, planes, stride)
				} else {
					short = nn.NewChain(name+".shortcut", nn.NewShortcutA(name+".shortcut", inplanes, planes, stride))
				}
			}
			stageBlocks = append(stageBlocks, basicBlock(name, inplanes, planes, stride, short))
			inplanes = planes
		}
		ls = append(ls, nn.NewChain(fmt.Sprintf("layer%d", stage+1), stageBlocks...))
	}
	return append(ls, nn.NewAdaptiveAvgPool2d("avgpool", 1, 1), nn.NewFlatten("flatten"), nn.NewLinear("fc", inplanes, classes, true)), nil
}
