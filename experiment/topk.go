package experiment

import (
	"context"
	"errors"
	"fmt"

	"github.com/convscope/convscope/nn"
)

// Images is a dataset as the scans read it: N samples of one shape,
// already normalised for the model (data.ImageSet and train.Source are).
type Images interface {
	// Len is the number of samples.
	Len() int
	// Shape is one sample's shape (C,H,W).
	Shape() []int
	// Fill copies sample i into dst and returns its label.
	Fill(i int, dst []float32) int
}

// Hit is one image's strongest activation in a channel: the image's index
// in the dataset, the unit where it is (row and column in the layer's
// maps; 0 and 0 for a vector) and its value.
type Hit struct {
	Index      int     `json:"index"`
	Y          int     `json:"y"`
	X          int     `json:"x"`
	Activation float32 `json:"activation"`
}

// ChannelTop is a channel's strongest images, strongest first.
type ChannelTop struct {
	Channel int   `json:"channel"`
	Top     []Hit `json:"top"`
}

// TopK is what a scan found: for every channel of a layer, the k images
// whose strongest activation in that channel is largest (Zeiler & Fergus'
// Figure 2 shows k = 9), over the first Images images of a dataset.
type TopK struct {
	Layer    string       `json:"layer"`
	K        int          `json:"k"`
	Images   int          `json:"images"`
	Channels []ChannelTop `json:"channels"`
}

// ScanOptions are a scan's parameters.
type ScanOptions struct {
	// K is how many images each channel keeps (9).
	K int
	// Batch is how many images one forward pass carries (128).
	Batch int
	// ChannelsLast says the layer's output is (N,H,W,C) (zoo.LayerInfo
	// Layout "hwc", inside a ConvNeXt block).
	ChannelsLast bool
	// Progress, if not nil, hears how many images are done after each batch.
	Progress func(done, total int)
}

// MaxK bounds the images a scan keeps per channel.
const MaxK = 100

// errReached stops a forward pass once the scanned layer has run.
var errReached = errors.New("the layer has run")

// ScanTopK runs every image of set through net as far as the layer called
// name (by its dotted name, inside blocks too), and keeps, for each of its
// channels, the K images with the largest activation anywhere in that
// channel's map, with where it is. Ties keep the earlier image. The pass
// stops at the top-level layer that holds the scanned one, so a scan costs
// at most one evaluation pass. ctx stops it between batches.
func ScanTopK(ctx context.Context, net *nn.Sequential, name string, set Images, opt ScanOptions) (*TopK, error) {
	if opt.K == 0 {
		opt.K = 9
	}
	if opt.Batch == 0 {
		opt.Batch = 128
	}
	if opt.K < 1 || opt.K > MaxK {
		return nil, fmt.Errorf("k %d: want 1 to %d", opt.K, MaxK)
	}
	if opt.Batch < 1 || opt.Batch > 1024 {
		return nil, fmt.Errorf("batch %d: want 1 to 1024", opt.Batch)
	}
	n := set.Len()
	if n == 0 {
		return nil, fmt.Errorf("no images to scan")
	}
	per := nn.Numel(set.Shape())
	arena := nn.NewArena()
	var slicer nn.Slicer
	var tops [][]Hit
	for from := 0; from < n; from += opt.Batch {
		if err := ctx.Err(); err != nil {
			return nil, errors.Join(errors.New("scan stopped"), err)
		}
		to := min(n, from+opt.Batch)
		arena.Reset()
		x := arena.Uninit(append([]int{to - from}, set.Shape()...)...)
		for i := from; i < to; i++ {
			set.Fill(i, x.Data[(i-from)*per:(i-from+1)*per])
		}
		out, err := slicer.Run(x, arena, func(x *nn.Tensor, a *nn.Arena) (*nn.Tensor, error) {
			return Reach(net, x, name, &nn.Context{Arena: a, Fuse: true, InPlace: true, Keep: name})
		})
		if err != nil {
			return nil, err
		}
		planes, err := planesOf(out, name, opt.ChannelsLast)
		if err != nil {
			return nil, err
		}
		if tops == nil {
			tops = make([][]Hit, planes.c)
		}
		planes.strongest(func(s, c, y, x int, v float32) {
			tops[c] = keep(tops[c], Hit{Index: from + s, Y: y, X: x, Activation: v}, opt.K)
		})
		if opt.Progress != nil {
			opt.Progress(to, n)
		}
	}
	r := &TopK{Layer: name, K: opt.K, Images: n, Channels: make([]ChannelTop, len(tops))}
	for c, top := range tops {
		r.Channels[c] = ChannelTop{Channel: c, Top: top}
	}
	return r, nil
}

// Reach runs x forward through net until the layer called name has run,
// and returns that layer's output (the batch's).
func Reach(net *nn.Sequential, x *nn.Tensor, name string, ctx *nn.Context) (*nn.Tensor, error) {
	tr := &nn.Trace{Input: x}
	var out *nn.Tensor
	_, err := net.Forward(x, ctx, func(i int, st *nn.Step) error {
		tr.Steps = append(tr.Steps, *st)
		if _, found, ok := tr.Locate(name); ok {
			out = found.Out
			return errReached
		}
		return nil
	})
	switch {
	case errors.Is(err, errReached):
		return out, nil
	case err != nil:
		return nil, err
	}
	return nil, fmt.Errorf("no layer %q in this network", name)
}

// keep inserts h into top (strongest first, at most k), after any hit of
// the same value: an earlier image wins a tie.
func keep(top []Hit, h Hit, k int) []Hit {
	if len(top) == k && h.Activation <= top[k-1].Activation {
		return top
	}
	at := len(top)
	for at > 0 && top[at-1].Activation < h.Activation {
		at--
	}
	if len(top) < k {
		top = append(top, Hit{})
	}
	copy(top[at+1:], top[at:len(top)-1])
	top[at] = h
	return top
}

// planes is a layer's batch output read as per-sample channels of h×w.
type planes struct {
	t            *nn.Tensor
	n, c, h, w   int
	channelsLast bool
}

func planesOf(t *nn.Tensor, name string, channelsLast bool) (planes, error) {
	s := t.Shape
	switch {
	case channelsLast && len(s) == 4:
		return planes{t, s[0], s[3], s[1], s[2], true}, nil
	case channelsLast:
		return planes{}, fmt.Errorf("%s: a channels-last output is (N,H,W,C), not %s", name, nn.ShapeString(s))
	case len(s) == 4:
		return planes{t, s[0], s[1], s[2], s[3], false}, nil
	case len(s) >= 2:
		return planes{t, s[0], nn.Numel(s[1:]), 1, 1, false}, nil
	}
	return planes{}, fmt.Errorf("%s: output %s has no channels", name, nn.ShapeString(s))
}

// strongest calls fn with each sample's and channel's largest value and
// where it is (the first such unit in row-major order).
func (p planes) strongest(fn func(s, c, y, x int, v float32)) {
	hw := p.h * p.w
	for s := range p.n {
		data := p.t.Data[s*p.c*hw : (s+1)*p.c*hw]
		for c := range p.c {
			best, at := float32(0), -1
			for k := range hw {
				i := c*hw + k
				if p.channelsLast {
					i = k*p.c + c
				}
				if v := data[i]; at < 0 || v > best {
					best, at = v, k
				}
			}
			fn(s, c, at/p.w, at%p.w, best)
		}
	}
}
