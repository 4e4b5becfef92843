package zoo

import (
	"fmt"

	"github.com/convscope/convscope/nn"
)

// VGG (Simonyan & Zisserman 2014): stacks of 3x3 convolutions, from a
// config list as torchvision writes it (a number is a conv's width, 0 a
// 2x2 max-pool), with or without BatchNorm. Two 3x3 layers see as far as
// one 5x5 and three as far as a 7x7, with fewer parameters: the summary's
// receptive-field column shows it.
//
//	vgg11 vgg13 vgg16 vgg19 (+ _bn)   torchvision's, 224 input
//	vgg_small                          VGG-11's pattern at 1/8 width for 28/32 inputs

const pool = 0

var vggConfigs = map[string][]int{
	"11": {64, pool, 128, pool, 256, 256, pool, 512, 512, pool, 512, 512, pool},
	"13": {64, 64, pool, 128, 128, pool, 256, 256, pool, 512, 512, pool, 512, 512, pool},
	"16": {64, 64, pool, 128, 128, pool, 256, 256, 256, pool, 512, 512, 512, pool, 512, 512, 512, pool},
	"19": {64, 64, pool, 128, 128, pool, 256, 256, 256, 256, pool, 512, 512, 512, 512, pool, 512, 512, 512, 512, pool},
}

func init() {
	for depth, cfg := range vggConfigs {
		for _, bn := range []bool{false, true} {
			name, desc := "vgg"+depth, fmt.Sprintf("VGG-%s (configuration %s of the paper)", depth, map[string]string{"11": "A", "13": "B", "16": "D", "19": "E"}[depth])
			if bn {
				name, desc = name+"_bn", desc+" with BatchNorm"
			}
			register(Family{Name: name, Description: desc, Input: []int{3, 224, 224}, Classes: 1000,
				build: func(in []int, classes int) ([]nn.Layer, error) {
					return withHead(vggFeatures(in[0], cfg, bn), in, 7, 7, func(flat int) []nn.Layer {
						return classifier("classifier", flat, 4096, classes, 0.5, false)
					})
				}})
		}
	}
	register(Family{Name: "vgg_small", Description: "VGG-11's 3x3 stacks with BatchNorm at 1/8 width, for small images",
		Input: []int{1, 28, 28}, Classes: 10,
		build: func(in []int, classes int) ([]nn.Layer, error) {
			cfg := []int{32, pool, 64, pool, 128, 128, pool, 256, 256, pool}
			return withHead(vggFeatures(in[0], cfg, true), in, 1, 1, func(flat int) []nn.Layer {
				return classifier("classifier", flat, 256, classes, 0.5, false)
			})
		}})
}

// vggFeatures builds torchvision's make_layers(cfg, batch_norm).
func vggFeatures(in int, cfg []int, bn bool) []nn.Layer {
	f := &numbered{prefix: "features"}
	for _, width := range cfg {
		if width == pool {
			f.add(nn.NewMaxPool2d(f.next(), 2, 2, 0))
			continue
		}
		f.add(nn.NewConv2d(f.next(), in, width, 3, 1, 1, true))
		if bn {
			f.add(nn.NewBatchNorm2d(f.next(), width))
		}
		f.add(nn.NewReLU(f.next()))
		in = width
	}
	return f.layers
}
