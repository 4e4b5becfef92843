package zoo

import (
	"fmt"

	"github.com/convscope/convscope/nn"
)

// numbered collects layers named like an nn.Sequential's children:
// prefix.0, prefix.1, ... (torchvision's "features.0").
type numbered struct {
	prefix string
	layers []nn.Layer
}

// next is the name the next added layer gets.
func (s *numbered) next() string { return fmt.Sprintf("%s.%d", s.prefix, len(s.layers)) }

// add appends layers (named with next() when they were made).
func (s *numbered) add(ls ...nn.Layer) { s.layers = append(s.layers, ls...) }

// convReLU appends Conv2d(k, stride, padding, bias) then ReLU.
func (s *numbered) convReLU(in, out, k, stride, pad int) {
	s.add(nn.NewConv2d(s.next(), in, out, k, stride, pad, true))
	s.add(nn.NewReLU(s.next()))
}

// classifier appends torchvision's AlexNet/VGG head on top of features of
// size flat: [Dropout] Linear ReLU [Dropout] Linear ReLU Linear, with
// dropoutFirst choosing AlexNet's order (dropout before each hidden linear)
// or VGG's (after each ReLU).
func classifier(prefix string, flat, hidden, classes int, dropout float32, dropoutFirst bool) []nn.Layer {
	c := &numbered{prefix: prefix}
	for _, in := range []int{flat, hidden} {
		if dropoutFirst {
			c.add(nn.NewDropout(c.next(), dropout))
		}
		c.add(nn.NewLinear(c.next(), in, hidden, true))
		c.add(nn.NewReLU(c.next()))
		if !dropoutFirst {
			c.add(nn.NewDropout(c.next(), dropout))
		}
	}
	c.add(nn.NewLinear(c.next(), hidden, classes, true))
	return c.layers
}

// withHead appends pooling to (ph,pw) (adaptive; 0 skips it), a flatten and
// the classifier to features, sizing the first linear layer from the input.
func withHead(features []nn.Layer, in []int, ph, pw int, head func(flat int) []nn.Layer) ([]nn.Layer, error) {
	ls := append([]nn.Layer(nil), features...)
	if ph > 0 {
		ls = append(ls, nn.NewAdaptiveAvgPool2d("avgpool", ph, pw))
	}
	ls = append(ls, nn.NewFlatten("flatten"))
	flat, err := outputSize(ls, in)
	if err != nil {
		return nil, err
	}
	return append(ls, head(flat)...), nil
}
