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

func strongestIn(out *nn.Tensor, c int, name string) (Unit, error) {
	ch, h, w := planes(out)
	if c < 0 || c >= ch {
		return Unit{}, fmt.Errorf("channel %d outside [0,%d) of %s", c, ch, name)
	}
	i := nn.ArgMax(out.Data[c*h*w : (c+1)*h*w])
	return Unit{Channel: c, Y: i / w, X: i % w}, nil
}

// Target is a layer found by name anywhere in a trace, inside blocks too
// ("layer3.1.conv2" of a ResNet, or a mark such as "layer3.1.add").
type Target struct {
	Name string
	Path []int    // nn.Trace.Locate's path
	Step *nn.Step // its record in this pass
	// ChannelsLast says the layer's output is (1,H,W,C), as inside a
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
	if st.Out.Shape[0] != 1 {
		return Target{}, fmt.Errorf("deconvnet wants a single-sample trace, got batch %d", st.Out.Shape[0])
	}
	return Target{Name: name, Path: path, Step: st}, nil
}

// StrongestAt is Strongest for a found layer.
func StrongestAt(t Target, c int) (Unit, error) {
	if !t.ChannelsLast {
		return strongestIn(t.Step.Out, c, t.Name)
	}
	ch, h, w, err := lastPlanes(t)
	if err != nil {
		return Unit{}, err
	}
	if c < 0 || c >= ch {
		return Unit{}, fmt.Errorf("channel %d outside [0,%d) of %s", c, ch, t.Name)
	}
	best, at := float32(0), -1
	for i := 0; i < h*w; i++ {
		if v := t.Step.Out.Data[i*ch+c]; at < 0 || v > best {
			best, at = v, i
		}
	}
	return Unit{Channel: c, Y: at / w, X: at % w}, nil
}

// SeedAt is Seed for a found layer.
func SeedAt(t Target, u Unit) (*nn.Tensor, error) {
	if !t.ChannelsLast {
		return seedIn(t.Step.Out, u, t.Name)
	}
	i, err := t.Index(u)
	if err != nil {
		return nil, err
	}
	signal := nn.New(t.Step.Out.Shape...)
	signal.Data[i] = t.Step.Out.Data[i]
	return signal, nil
}

// Index is the position of unit u in the found layer's output data.
func (t Target) Index(u Unit) (int, error) {
	ch, h, w := planes(t.Step.Out)
	if t.ChannelsLast {
		var err error
		if ch, h, w, err = lastPlanes(t); err != nil {
			return 0, err
		}
	}
	if u.Channel < 0 || u.Channel >= ch || u.Y < 0 || u.Y >= h || u.X < 0 || u.X >= w {
		return 0, fmt.Errorf("unit %+v outside %s's output %s", u, t.Name, nn.ShapeString(t.Step.Out.Shape))
	}
	if t.ChannelsLast {
		return (u.Y*w+u.X)*ch + u.Channel, nil
	}
	return (u.Channel*h+u.Y)*w + u.X, nil
}

// lastPlanes views a (1,H,W,C) output as C planes of H×W.
func lastPlanes(t Target) (c, h, w int, err error) {
	s := t.Step.Out.Shape
	if len(s) != 4 {
		return 0, 0, 0, fmt.Errorf("%s: a channels-last output is (1,H,W,C), not %s", t.Name, nn.ShapeString(s))
	}
	return s[3], s[1], s[2], nil
}

// ProjectAt is the deconvnet projection of unit u of a found layer: inside
// the blocks that hold it the walk uses nn's backward under the deconvnet
// rule (the same three operations, see TestRectificationDiffersFromGradient),
// then Walk takes over at the top level.
func ProjectAt(tr *nn.Trace, t Target, u Unit) (*nn.Tensor, error) {
	signal, err := SeedAt(t, u)
	if err != nil {
		return nil, err
	}
	if len(t.Path) == 1 {
		return Walk(tr, t.Path[0], signal)
	}
	d, err := tr.BackToStepInput(t.Path, signal, nn.Deconvnet, nil)
	if err != nil || t.Path[0] == 0 {
		return d, err
	}
	return Walk(tr, t.Path[0]-1, d)
}

func seedIn(out *nn.Tensor, u Unit, name string) (*nn.Tensor, error) {
	ch, h, w := planes(out)
	if u.Channel < 0 || u.Channel >= ch || u.Y < 0 || u.Y >= h || u.X < 0 || u.X >= w {
		return nil, fmt.Errorf("unit %+v outside %s's output %s", u, name, nn.ShapeString(out.Shape))
	}
	signal := nn.New(out.Shape...)
	i := (u.Channel*h+u.Y)*w + u.X
	signal.Data[i] = out.Data[i]
	return signal, nil
}

// Walk runs the deconvnet from step `from` (signal shaped like its output)
// down to the input.
func Walk(tr *nn.Trace, from int, signal *nn.Tensor) (*nn.Tensor, error) {
	var err error
	for i := from; i >= 0; i-- {
		st := &tr.Steps[i]
		switch l := st.Layer.(type) {
		case *nn.MaxPool2d:
			signal, err = Unpool(signal, st)
		case *nn.Activation:
			if l.Rectifies() {
				signal = Rectify(signal)
			} else {
				signal, err = l.Backward(signal, st, nn.Deconvnet, nil)
			}
		case *nn.Conv2d:
			signal, err = Filter(signal, l, st)
		default:
			signal, err = l.Backward(signal, st, nn.Deconvnet, nil)
		}
		if err != nil {
			return nil, fmt.Errorf("deconvnet at %s: %w", st.Layer.Name(), err)
		}
	}
	return signal, nil
}

// Unpool places each value at the position its pooling window's maximum came
// from, using the switches recorded by the forward pass.
func Unpool(signal *nn.Tensor, st *nn.Step) (*nn.Tensor, error) {
	sw, ok := st.Saved.(nn.Switches)
	if !ok {
		return nil, fmt.Errorf("%s recorded no switches", st.Layer.Name())
	}
	return nn.Unpool(signal, sw, st.In.Shape)
}

// Rectify is the deconvnet's ReLU: max(signal, 0), element by element.
func Rectify(signal *nn.Tensor) *nn.Tensor {
	out := nn.New(signal.Shape...)
	for i, v := range signal.Data {
		out.Data[i] = max(v, 0)
	}
	return out
}

// Filter is the transposed convolution with conv's own filters (no bias):
// the convolution's backward-to-input.
func Filter(signal *nn.Tensor, conv *nn.Conv2d, st *nn.Step) (*nn.Tensor, error) {
	return conv.Backward(signal, st, nn.Deconvnet, nil)
}

// planes views a sample's (1,C,H,W) or (1,F) output as C planes of H×W.
func planes(t *nn.Tensor) (c, h, w int) {
	if len(t.Shape) == 4 {
		return t.Shape[1], t.Shape[2], t.Shape[3]
	}
	return nn.Numel(t.Shape[1:]), 1, 1
}

// Attribute is the picture of unit u of a found layer that the page and
// the CLI show for a backward rule: Zeiler & Fergus' projection for
// nn.Deconvnet (ProjectAt), otherwise the same seed walked back to the
// input by net's backward under rule (nn.Gradient: the saliency of Simonyan
// et al.; nn.Guided: Springenberg et al.'s guided backpropagation). The
// three differ only at the rectifiers (nn.Rule).
func Attribute(net *nn.Sequential, tr *nn.Trace, t Target, u Unit, rule nn.Rule) (*nn.Tensor, error) {
	if rule == nn.Deconvnet {
		return ProjectAt(tr, t, u)
	}
	signal, err := SeedAt(t, u)
	if err != nil {
		return nil, err
	}
	return net.BackwardFromPath(tr, t.Path, signal, rule, nil)
}
