package deconv

import (
	"fmt"

	"github.com/convscope/convscope/nn"
)

// Unit names one activation of a layer's output: channel (or feature) and,
// for feature maps, its row and column. For a vector output Y = X = 0.
type Unit struct {
	Channel, Y, X int
}

// Target is a layer found by name anywhere in a trace, inside blocks too
// ("layer3.1.conv2" of a ResNet, or a mark such as "layer3.1.add").
type Target struct {
	Name string
	Path []int    // nn.Trace.Locate's path
	Step *nn.Step // its record in this pass
	// ChannelsLast says the layer's output is (N,H,W,C), as inside a
	// ConvNeXt block (zoo.LayerInfo.Layout "hwc"); units are still named
	// (channel, y, x). Find leaves it false; the caller who knows sets it.
	ChannelsLast bool
}

// Find locates the layer called name in tr.
func Find(tr *nn.Trace, name string) (Target, error) {
	path, st, ok := tr.Locate(name)
	if !ok {
		return Target{}, fmt.Errorf("no layer %q in this network", name)
	}
	return Target{Name: name, Path: path, Step: st}, nil
}

// Planes is the layer's output per sample as C planes of H×W: feature maps
// (channels first or last), or a vector of C features as C planes of 1×1.
func (t Target) Planes() (c, h, w int, err error) {
	s := t.Step.Out.Shape
	switch {
	case t.ChannelsLast && len(s) == 4:
		return s[3], s[1], s[2], nil
	case t.ChannelsLast:
		return 0, 0, 0, fmt.Errorf("%s: a channels-last output is (N,H,W,C), not %s", t.Name, nn.ShapeString(s))
	case len(s) == 4:
		return s[1], s[2], s[3], nil
	}
	return nn.Numel(s[1:]), 1, 1, nil
}

// Index is the position of unit u in one sample's output data.
func (t Target) Index(u Unit) (int, error) {
	ch, h, w, err := t.Planes()
	if err != nil {
		return 0, err
	}
	if u.Channel < 0 || u.Channel >= ch || u.Y < 0 || u.Y >= h || u.X < 0 || u.X >= w {
		return 0, fmt.Errorf("unit %+v outside %s's output %s", u, t.Name, nn.ShapeString(t.Step.Out.Shape))
	}
	if t.ChannelsLast {
		return (u.Y*w+u.X)*ch + u.Channel, nil
	}
	return (u.Channel*h+u.Y)*w + u.X, nil
}

// StrongestAt is the unit of channel c with the largest activation in the
// first sample.
func StrongestAt(t Target, c int) (Unit, error) {
	ch, h, w, err := t.Planes()
	if err != nil {
		return Unit{}, err
	}
	if c < 0 || c >= ch {
		return Unit{}, fmt.Errorf("channel %d outside [0,%d) of %s", c, ch, t.Name)
	}
	best, at := float32(0), -1
	for y := range h {
		for x := range w {
			i, _ := t.Index(Unit{c, y, x})
			if v := t.Step.Out.Data[i]; at < 0 || v > best {
				best, at = v, y*w+x
			}
		}
	}
	return Unit{Channel: c, Y: at / w, X: at % w}, nil
}

// SeedAt is the signal at the layer's output that keeps unit u's
// activation and sets every other to zero (Zeiler & Fergus' start).
func SeedAt(t Target, u Unit) (*nn.Tensor, error) {
	i, err := t.Index(u)
	if err != nil {
		return nil, err
	}
	signal := nn.New(t.Step.Out.Shape...)
	signal.Data[i] = t.Step.Out.Data[i]
	return signal, nil
}
