package experiment

import (
	"context"
	"image"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// Two snapshots of LeNet-5 (two initialisations stand for two epochs):
// each cell holds the image and unit that running every sample image alone
// through that snapshot finds strongest (bruteTopK), the pixels of that
// image, and a crop of its 14x14 receptive field at c3; the figure's size
// follows the grid.
func TestEvolutionMatchesBruteForce(t *testing.T) {
	var snaps []Snapshot
	for i, seed := range []uint64{1, 2} {
		m, err := zoo.Build("lenet5", nil, 10, seed)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, Snapshot{Epoch: 5 * (i + 1), Net: m.Net})
	}
	m, _ := zoo.Build("lenet5", nil, 10, 1)
	sum, err := zoo.Summarize(m)
	if err != nil {
		t.Fatal(err)
	}
	row, _, ok := sum.Row("c3")
	if !ok {
		t.Fatal("lenet5 has no c3")
	}
	sample := newRandomImages(40, m.Input, 9)
	// Image i's pixels are all (i+1)/100, so a cell's pixels name its image.
	pixels := func(i int) (*nn.Tensor, error) {
		p := nn.New(1, 1, 28, 28)
		for k := range p.Data {
			p.Data[k] = float32(i+1) / 100
		}
		return p, nil
	}
	channels := []int{0, 5, 15}
	got, err := Evolution(context.Background(), snaps, row, sample, channels, pixels)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(channels) {
		t.Fatalf("%d rows for %d channels", len(got), len(channels))
	}
	differ := false
	for j, s := range snaps {
		want := bruteTopK(t, s.Net, "c3", sample, 1, false)
		for i, c := range channels {
			if len(got[i]) != len(snaps) {
				t.Fatalf("channel %d: %d cells for %d snapshots", c, len(got[i]), len(snaps))
			}
			p, w := got[i][j], want[c][0]
			if p.Index != w.Index || p.Y != w.Y || p.X != w.X || abs(p.Activation-w.Activation) > 1e-4*max(1, abs(w.Activation)) {
				t.Errorf("epoch %d, channel %d: %+v, brute force %+v", s.Epoch, c, p.Hit, w)
			}
			if p.Field.Dx() != 14 || p.Field.Dy() != 14 || !p.Box.In(image.Rect(0, 0, 28, 28)) ||
				!nn.SameShape(p.Projection.Shape, []int{1, 1, p.Box.Dy(), p.Box.Dx()}) ||
				!nn.SameShape(p.Pixels.Shape, p.Projection.Shape) || p.Pixels.Data[0] != float32(w.Index+1)/100 {
				t.Errorf("epoch %d, channel %d: field %v box %v, projection %v, pixels %v of value %g (image %d)", s.Epoch, c,
					p.Field, p.Box, p.Projection.Shape, p.Pixels.Shape, p.Pixels.Data[0], w.Index)
			}
			if j == 1 && (p.Index != got[i][0].Index || p.Y != got[i][0].Y || p.X != got[i][0].X) {
				differ = true
			}
		}
	}
	if !differ {
		t.Error("both snapshots found the same units: the test cannot tell them apart")
	}

	// Worked by hand from the layout in EvolutionFigure's comment: side 14,
	// zoom ⌈64/14⌉ = 5, cell 72; columns 2·72+8+16 = 168 wide ("epoch 10"
	// is 56); labels "channel 15" 70+12; rows 78 tall.
	img, err := EvolutionFigure(english, "", []int{5, 10}, channels, got)
	if err != nil {
		t.Fatal(err)
	}
	if want := image.Rect(0, 0, 8+82+2*168, 8+15+4+3*78+2); img.Bounds() != want {
		t.Errorf("figure %v, want %v", img.Bounds(), want)
	}
	one, err := EvolutionFigure(english, "", []int{5}, channels[:1], [][]Patch{got[0][:1]})
	if err != nil {
		t.Fatal(err)
	}
	if want := image.Rect(0, 0, 8+75+168, 8+15+4+78+2); one.Bounds() != want { // "channel 0" is 63 wide
		t.Errorf("one cell: figure %v, want %v", one.Bounds(), want)
	}
	captioned, err := EvolutionFigure(english, "LeNet-5, c3", []int{5, 10}, channels, got)
	if err != nil {
		t.Fatal(err)
	}
	if captioned.Bounds().Dy() != img.Bounds().Dy()+30 {
		t.Errorf("captioned figure is %d tall, %d without its two lines of caption", captioned.Bounds().Dy(), img.Bounds().Dy())
	}
}

// Bad requests are refused with what was wrong.
func TestEvolutionRefuses(t *testing.T) {
	m, _ := zoo.Build("lenet5", nil, 10, 1)
	sum, _ := zoo.Summarize(m)
	row, _, _ := sum.Row("c3")
	sample := newRandomImages(3, m.Input, 1)
	pixels := func(int) (*nn.Tensor, error) { return nn.New(1, 1, 28, 28), nil }
	snaps := []Snapshot{{Epoch: 1, Net: m.Net}}
	for _, c := range []struct {
		snaps    []Snapshot
		channels []int
		want     string
	}{
		{nil, []int{0}, "0 snapshots"},
		{snaps, nil, "0 channels"},
		{snaps, []int{16}, "channel 16 of c3, which has channels 0..15"},
		{[]Snapshot{{Epoch: 2}}, []int{0}, "epoch 2) has no network"},
	} {
		if _, err := Evolution(context.Background(), c.snaps, row, sample, c.channels, pixels); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: %v, want %q", c.snaps, c.channels, err, c.want)
		}
	}
	if _, err := EvolutionFigure(english, "", []int{1, 2}, []int{0}, [][]Patch{{{}}}); err == nil || !strings.Contains(err.Error(), "1 patches for 2 epochs") {
		t.Errorf("a short row: %v", err)
	}
}
