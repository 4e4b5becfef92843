package experiment

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// randomImages is an in-memory Images of n random samples.
type randomImages struct {
	shape []int
	data  []float32
}

func newRandomImages(n int, shape []int, seed uint64) *randomImages {
	r := rand.New(rand.NewPCG(seed, 7))
	d := make([]float32, n*nn.Numel(shape))
	for i := range d {
		d[i] = float32(r.NormFloat64())
	}
	return &randomImages{shape, d}
}

func (s *randomImages) Len() int     { return len(s.data) / nn.Numel(s.shape) }
func (s *randomImages) Shape() []int { return s.shape }
func (s *randomImages) Fill(i int, dst []float32) int {
	copy(dst, s.data[i*len(dst):(i+1)*len(dst)])
	return 0
}

// bruteTopK runs every image alone through the whole network, reads the
// layer's output from the full trace, and sorts all images per channel.
func bruteTopK(t *testing.T, net *nn.Sequential, name string, set Images, k int, channelsLast bool) [][]Hit {
	t.Helper()
	var all [][]Hit
	per := nn.Numel(set.Shape())
	for i := range set.Len() {
		x := nn.New(append([]int{1}, set.Shape()...)...)
		set.Fill(i, x.Data[:per])
		tr, err := net.Forward(x, &nn.Context{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, st, ok := tr.Locate(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		s := st.Out.Shape
		c, h, w := s[1], s[2], s[3]
		if channelsLast {
			h, w, c = s[1], s[2], s[3]
		}
		if all == nil {
			all = make([][]Hit, c)
		}
		for ch := range c {
			best := Hit{Index: i, Y: -1}
			for y := range h {
				for xx := range w {
					v := st.Out.Data[(ch*h+y)*w+xx]
					if channelsLast {
						v = st.Out.Data[(y*w+xx)*c+ch]
					}
					if best.Y < 0 || v > best.Activation {
						best = Hit{Index: i, Y: y, X: xx, Activation: v}
					}
				}
			}
			all[ch] = append(all[ch], best)
		}
	}
	for ch := range all {
		slices.SortStableFunc(all[ch], func(a, b Hit) int {
			switch {
			case a.Activation > b.Activation:
				return -1
			case a.Activation < b.Activation:
				return 1
			}
			return a.Index - b.Index
		})
		all[ch] = all[ch][:k]
	}
	return all
}

// The scan finds what running every image alone and sorting finds: at a
// nested layer of a ResNet (batches of 16 over 45 images, the last one
// short), and at a channels-last layer inside a ConvNeXt block.
func TestScanTopKMatchesBruteForce(t *testing.T) {
	for _, c := range []struct {
		model, layer string
		channelsLast bool
	}{
		{"resnet20", "layer2.1.conv1", false},
		{"resnet20", "layer1.0.add", false},
		{"convnext_mini", "", true},
	} {
		m, err := zoo.Build(c.model, nil, 10, 3)
		if err != nil {
			t.Fatal(err)
		}
		if c.channelsLast {
			sum, err := zoo.Summarize(m)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range sum.Layers {
				if r.Layout == "hwc" && r.Type == "Linear" {
					c.layer = r.Name
					break
				}
			}
			if c.layer == "" {
				t.Fatal("convnext_mini has no channels-last linear layer")
			}
		}
		set := newRandomImages(45, m.Input, 11)
		var reports []int
		got, err := ScanTopK(context.Background(), m.Net, c.layer, set, ScanOptions{K: 9, Batch: 16, ChannelsLast: c.channelsLast,
			Progress: func(done, total int) { reports = append(reports, done) }})
		if err != nil {
			t.Fatal(err)
		}
		want := bruteTopK(t, m.Net, c.layer, set, 9, c.channelsLast)
		if got.Layer != c.layer || got.K != 9 || got.Images != 45 || len(got.Channels) != len(want) || !slices.Equal(reports, []int{16, 32, 45}) {
			t.Fatalf("%s: layer %q k %d images %d, %d channels (want %d), progress %v", c.layer, got.Layer, got.K, got.Images, len(got.Channels), len(want), reports)
		}
		for ch := range want {
			for i, h := range got.Channels[ch].Top {
				w := want[ch][i]
				if h.Index != w.Index || h.Y != w.Y || h.X != w.X || abs(h.Activation-w.Activation) > 1e-4*max(1, abs(w.Activation)) {
					t.Fatalf("%s channel %d, rank %d: %+v, brute force %+v", c.layer, ch, i, h, w)
				}
			}
		}
	}
}

func abs(v float32) float32 { return max(v, -v) }

// Ties keep the earlier image, and a channel keeps at most k.
func TestKeepOrdersAndBreaksTies(t *testing.T) {
	var top []Hit
	for i, v := range []float32{1, 3, 2, 3, 5, 0, 3} {
		top = keep(top, Hit{Index: i, Activation: v}, 4)
	}
	var got []int
	for _, h := range top {
		got = append(got, h.Index)
	}
	if !slices.Equal(got, []int{4, 1, 3, 6}) {
		t.Errorf("kept %v, want images 4, 1, 3, 6", got)
	}
}

// Bad requests are refused before any work.
func TestScanTopKRefuses(t *testing.T) {
	m, err := zoo.Build("lenet5", nil, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	set := newRandomImages(3, m.Input, 1)
	for _, c := range []struct {
		layer string
		opt   ScanOptions
		want  string
	}{
		{"nope", ScanOptions{}, `no layer "nope"`},
		{"c1", ScanOptions{K: 101}, "k 101"},
		{"c1", ScanOptions{Batch: -1}, "batch -1"},
	} {
		if _, err := ScanTopK(context.Background(), m.Net, c.layer, set, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: %v, want %q", c.layer, c.opt, err, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ScanTopK(ctx, m.Net, "c1", set, ScanOptions{}); err == nil || !strings.Contains(err.Error(), "scan stopped") {
		t.Errorf("a cancelled scan: %v", err)
	}
}
