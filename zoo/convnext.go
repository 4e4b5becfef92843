package zoo

import (
	"fmt"

	"github.com/convscope/convscope/nn"
)

// ConvNeXt (Liu et al. 2022): a ResNet modernised step by step towards a
// vision transformer: a 4x4 stride-4 "patchify" stem, 7x7 depthwise
// convolutions, LayerNorm, an inverted 4x MLP with GELU, layer scale and
// stochastic depth, separate downsampling layers.
//
//	convnext_tiny  convnext_small  convnext_base   torchvision's, 224 input
//	convnext_mini  three stages (32/64/128, depths 2/2/4) behind a 2x2
//	               stride-2 stem, for 28/32 inputs

func init() {
	for _, v := range []struct {
		name   string
		dims   []int
		depths []int
	}{{"convnext_tiny", []int{96, 192, 384, 768}, []int{3, 3, 9, 3}},
		{"convnext_small", []int{96, 192, 384, 768}, []int{3, 3, 27, 3}},
		{"convnext_base", []int{128, 256, 512, 1024}, []int{3, 3, 27, 3}}} {
		register(Family{Name: v.name, Description: fmt.Sprintf("ConvNeXt (widths %v, depths %v) as torchvision", v.dims, v.depths),
			Input: []int{3, 224, 224}, Classes: 1000,
			build: func(in []int, classes int) ([]nn.Layer, error) {
				return convnext(in, classes, v.dims, v.depths, 4, 0.1)
			}})
	}
	register(Family{Name: "convnext_mini", Description: "ConvNeXt blocks in three stages (32/64/128) for small images",
		Input: []int{1, 28, 28}, Classes: 10,
		build: func(in []int, classes int) ([]nn.Layer, error) {
			return convnext(in, classes, []int{32, 64, 128}, []int{2, 2, 4}, 2, 0.05)
		}})
}

// cnBlock is torchvision's CNBlock: x + drop_path(gamma * block(x)) with
// block = dwconv7x7, permute, LayerNorm, Linear 4x, GELU, Linear, permute.
func cnBlock(name string, dim int, dropPath float32) nn.Layer {
	b := name + ".block"
	return nn.NewResidual(name, nn.NewChain(b,
		nn.NewConv(b+".0", nn.ConvConfig{In: dim, Out: dim, Kernel: 7, Padding: 3, Groups: dim, Bias: true}),
		nn.NewPermute(b+".1", 1, 2, 0),
		nn.NewLayerNorm(b+".2", dim, 1e-6, false),
		nn.NewLinear(b+".3", dim, 4*dim, true),
		nn.NewGELU(b+".4"),
		nn.NewLinear(b+".5", 4*dim, dim, true),
		nn.NewPermute(b+".6", 2, 0, 1),
		nn.NewLayerScale(name+".layer_scale", dim, 1e-6),
		nn.NewStochasticDepth(name+".stochastic_depth", dropPath),
	), nil, nil)
}

// convnext builds torchvision's ConvNeXt: features.0 the stem, then
// alternately a stage of blocks and a downsampling layer; stochastic depth
// grows linearly from 0 to maxDrop over all blocks.
func convnext(in []int, classes int, dims, depths []int, stem int, maxDrop float32) ([]nn.Layer, error) {
	ls := []nn.Layer{nn.NewChain("features.0",
		nn.NewConv2d("features.0.0", in[0], dims[0], stem, stem, 0, true),
		nn.NewLayerNorm("features.0.1", dims[0], 1e-6, true))}
	total, done := 0, 0
	for _, d := range depths {
		total += d
	}
	for s, depth := range depths {
		stage := fmt.Sprintf("features.%d", len(ls))
		var blocks []nn.Layer
		for i := 0; i < depth; i++ {
			p := maxDrop * float32(done) / float32(max(total-1, 1))
			blocks = append(blocks, cnBlock(fmt.Sprintf("%s.%d", stage, i), dims[s], p))
			done++
		}
		ls = append(ls, nn.NewChain(stage, blocks...))
		if s+1 < len(dims) {
			ds := fmt.Sprintf("features.%d", len(ls))
			ls = append(ls, nn.NewChain(ds,
				nn.NewLayerNorm(ds+".0", dims[s], 1e-6, true),
				nn.NewConv2d(ds+".1", dims[s], dims[s+1], 2, 2, 0, true)))
		}
	}
	last := dims[len(dims)-1]
	return append(ls, nn.NewAdaptiveAvgPool2d("avgpool", 1, 1),
		nn.NewLayerNorm("classifier.0", last, 1e-6, true),
		nn.NewFlatten("classifier.1"), nn.NewLinear("classifier.2", last, classes, true)), nil
}
