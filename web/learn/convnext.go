package learn

// The ConvNeXt lesson: the changes from ResNet-50 to ConvNeXt-T, each with
// its cost as the engine's summaries count them, and a 7x7 depthwise unit
// of the trained ConvNeXt-mini on the reader's picture.

import (
	"fmt"
	"strings"
	"sync"

	"github.com/convscope/convscope/arith"
	"github.com/convscope/convscope/zoo"
)

var (
	convnextModel = []string{"convnext-mini-fashion-mnist", "convnext_mini"}
	// convnextDepthwise is the trained model's first block's 7x7 filter.
	convnextDepthwise = "features.1.0.block.0"
)

// Part is one row of a summary: a layer or block with its cost.
type Part struct {
	Name, Type   string
	Output       string
	Params, MACs int64
}

// Comparison is ResNet-50 against ConvNeXt-T, row by row of the lesson.
type Comparison struct {
	// Stems: ResNet's 7x7 stride-2 convolution and max pool, ConvNeXt's
	// 4x4 stride-4 patchify convolution.
	ResNetStem, ConvNeXtStem []Part
	// Blocks: a stage-1 block of each, and the layers inside.
	ResNetBlock, ConvNeXtBlock   Part
	ResNetInside, ConvNeXtInside []Part
	ResNetStages, ConvNeXtStages []int
	ResNetTotal, ConvNeXtTotal   Part
	ResNetNorms, ConvNeXtNorms   int // normalisation layers per block
	ResNetActs, ConvNeXtActs     int // activations per block
}

var (
	comparisonOnce sync.Once
	comparison     Comparison
	comparisonErr  error
)

// Compare summarizes torchvision's ResNet-50 and ConvNeXt-T (once: they
// are 50 M weights, built only to be counted and then dropped).
func Compare() (Comparison, error) {
	comparisonOnce.Do(func() {
		var sums [2]*zoo.Summary
		for i, name := range []string{"resnet50", "convnext_tiny"} {
			m, err := zoo.Build(name, nil, 0, 0)
			if err != nil {
				comparisonErr = err
				return
			}
			if sums[i], err = zoo.Summarize(m); err != nil {
				comparisonErr = err
				return
			}
		}
		rs, cs := sums[0], sums[1]
		part := func(s *zoo.Summary, name string) Part {
			l, _, _ := s.Row(name)
			return Part{Name: l.Name, Type: l.Type, Output: shape(l.Output), Params: l.Params, MACs: l.MACs}
		}
		inside := func(s *zoo.Summary, block string, norms, acts *int) []Part {
			var out []Part
			for _, l := range s.Layers {
				if !strings.HasPrefix(l.Name, block+".") || strings.Count(l.Name, ".") > strings.Count(block, ".")+2 {
					continue
				}
				switch l.Type {
				case "BatchNorm2d", "LayerNorm":
					*norms++
				case "ReLU", "GELU":
					*acts++
				}
				if l.Params > 0 && l.Type != "Residual" && l.Type != "Sequential" {
					out = append(out, Part{Name: l.Name, Type: l.Type, Output: shape(l.Output), Params: l.Params, MACs: l.MACs})
				}
			}
			return out
		}
		c := Comparison{
			ResNetStem:   []Part{part(rs, "conv1"), part(rs, "maxpool")},
			ConvNeXtStem: []Part{part(cs, "features.0.0")},
			ResNetBlock:  part(rs, "layer1.1"), ConvNeXtBlock: part(cs, "features.1.1"),
			ResNetTotal:   Part{Name: "resnet50", Params: rs.Params, MACs: rs.MACs},
			ConvNeXtTotal: Part{Name: "convnext_tiny", Params: cs.Params, MACs: cs.MACs},
		}
		c.ResNetInside = inside(rs, "layer1.1", &c.ResNetNorms, &c.ResNetActs)
		c.ConvNeXtInside = inside(cs, "features.1.1", &c.ConvNeXtNorms, &c.ConvNeXtActs)
		count := func(s *zoo.Summary, stages []string) []int {
			var out []int
			for _, st := range stages {
				n := 0
				for _, l := range s.Layers {
					if l.Type == "Residual" && strings.HasPrefix(l.Name, st+".") && strings.Count(l.Name, ".") == strings.Count(st, ".")+1 {
						n++
					}
				}
				out = append(out, n)
			}
			return out
		}
		c.ResNetStages = count(rs, []string{"layer1", "layer2", "layer3", "layer4"})
		c.ConvNeXtStages = count(cs, []string{"features.1", "features.3", "features.5", "features.7"})
		comparison = c
	})
	return comparison, comparisonErr
}

// ConvNeXtView is the ConvNeXt lesson's page.
type ConvNeXtView struct {
	Scene
	Comparison
	// Depthwise explains the strongest unit of the trained model's first
	// 7x7 depthwise filter's first map.
	Depthwise *arith.Unit
}

func (h *Handler) convnextView(sample string) (ConvNeXtView, error) {
	var v ConvNeXtView
	var err error
	if v.Comparison, err = Compare(); err != nil {
		return v, err
	}
	m, tr, err := h.open(&v.Scene, convnextModel, "ConvNeXt", sample)
	if err != nil {
		return v, err
	}
	defer h.models.Release(m)
	_, dw, ok := tr.Locate(convnextDepthwise)
	if !ok {
		return v, fmt.Errorf("%s has no layer %s", m.Name, convnextDepthwise)
	}
	y, x := strongest(dw.Out, 0)
	v.Depthwise, err = arith.Explain(dw, 0, 0, y, x)
	return v, err
}
