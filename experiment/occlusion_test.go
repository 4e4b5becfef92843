package experiment

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convscope/convscope/deconv"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/zoo"
)

// occNet is LeNet-5 for (1,1,28,28) inputs with seeded random weights:
// c3 is (16,10,10), f6 a vector of 84, out 10 logits.
func occNet(t *testing.T) *nn.Sequential {
	t.Helper()
	m, err := zoo.Build("lenet5", nil, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m.Net
}

// occForward runs x alone through net and returns copies of the named
// layer's output and of the logits.
func occForward(t *testing.T, net *nn.Sequential, x *nn.Tensor, layer string) (out *nn.Tensor, logits []float32) {
	t.Helper()
	tr, err := net.Forward(x, &nn.Context{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, st, ok := tr.Locate(layer)
	if !ok {
		t.Fatalf("no layer %s", layer)
	}
	return st.Out.Clone(), append([]float32(nil), tr.Output().Data...)
}

// occSoftmax is the test's own softmax of logits at class k.
func occSoftmax(logits []float32, k int) float64 {
	top := math.Inf(-1)
	for _, v := range logits {
		top = math.Max(top, float64(v))
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - top)
	}
	return math.Exp(float64(logits[k])-top) / sum
}

// occArgMax is the index of the first largest value.
func occArgMax(v []float32) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// occMapSum sums channel ch of a (1,C,H,W) output, or takes element ch of
// a (1,F) one.
func occMapSum(out *nn.Tensor, ch int) float64 {
	if len(out.Shape) == 2 {
		return float64(out.Data[ch])
	}
	hw := out.Shape[2] * out.Shape[3]
	var s float64
	for _, v := range out.Data[ch*hw : (ch+1)*hw] {
		s += float64(v)
	}
	return s
}

// occClose reports whether got is within 1e-4 of want, relative (absolute
// near zero): a batch of 5 blocks its products differently from a batch of
// 1, so the sums round differently in the last few bits.
func occClose(got float32, want float64) bool {
	return math.Abs(float64(got)-want) <= 1e-4*math.Max(1, math.Abs(want))
}

// occluded is x with the square of rows [y0, y0+side) and columns
// [x0, x0+side) set to 0 in every channel, built here by hand.
func occluded(x *nn.Tensor, y0, x0, side int) *nn.Tensor {
	out := x.Clone()
	c, h, w := x.Shape[1], x.Shape[2], x.Shape[3]
	for ch := range c {
		for y := y0; y < y0+side; y++ {
			for xx := x0; xx < x0+side; xx++ {
				out.Data[(ch*h+y)*w+xx] = 0
			}
		}
	}
	return out
}

// Panels (b), (d) and (e) at three square positions equal single forward
// passes of inputs occluded by hand; the plain values, the default channel
// (the one holding the layer's largest activation), its strongest unit and
// the default label (the top class) come from a plain pass here.
func TestOcclusionMatchesDirectPasses(t *testing.T) {
	net := occNet(t)
	x := fig5Input(1, 28, 28, 3)
	var dones []int
	r, err := Occlusion(context.Background(), net, x, OcclusionOptions{Layer: "c3", Channel: -1, Label: -1,
		Window: 8, Stride: 4, Batch: 5, Progress: func(done, total int) {
			if total != 36 {
				t.Errorf("progress total %d, want 36", total)
			}
			dones = append(dones, done)
		}})
	if err != nil {
		t.Fatal(err)
	}
	// (28-8)/4+1 = 6 positions each way.
	if r.Rows != 6 || r.Cols != 6 || len(r.Activation) != 36 || len(r.Probability) != 36 || len(r.Predicted) != 36 {
		t.Fatalf("grid %dx%d with %d/%d/%d entries, want 6x6 with 36", r.Rows, r.Cols, len(r.Activation), len(r.Probability), len(r.Predicted))
	}
	if want := []int{5, 10, 15, 20, 25, 30, 35, 36}; !slices.Equal(dones, want) {
		t.Errorf("progress %v, want %v", dones, want)
	}

	plain, logits := occForward(t, net, x, "c3")
	best, at := float32(math.Inf(-1)), 0
	for i, v := range plain.Data {
		if v > best {
			best, at = v, i
		}
	}
	wantChannel, wantUnit := at/100, MapPos{Y: at % 100 / 10, X: at % 10}
	wantLabel := occArgMax(logits)
	if r.Channel != wantChannel || r.Unit != wantUnit || r.Label != wantLabel {
		t.Errorf("channel %d unit %+v label %d, want channel %d unit %+v (largest activation %g) label %d (top class)",
			r.Channel, r.Unit, r.Label, wantChannel, wantUnit, best, wantLabel)
	}
	if !occClose(r.Plain.Activation, occMapSum(plain, wantChannel)) || !occClose(r.Plain.Probability, occSoftmax(logits, wantLabel)) ||
		r.Plain.Predicted != wantLabel {
		t.Errorf("plain %+v, want activation %g, probability %g, class %d", r.Plain, occMapSum(plain, wantChannel), occSoftmax(logits, wantLabel), wantLabel)
	}

	for _, pos := range []struct{ i, j int }{{0, 0}, {2, 3}, {5, 5}} {
		out, logits := occForward(t, net, occluded(x, pos.i*4, pos.j*4, 8), "c3")
		k := pos.i*6 + pos.j
		act, p, top := occMapSum(out, r.Channel), occSoftmax(logits, r.Label), occArgMax(logits)
		if !occClose(r.Activation[k], act) || !occClose(r.Probability[k], p) || r.Predicted[k] != top {
			t.Errorf("square (%d,%d): activation %g, probability %g, class %d; a pass of its own gives %g, %g, %d",
				pos.i, pos.j, r.Activation[k], r.Probability[k], r.Predicted[k], act, p, top)
		}
	}

	if r.Projection == nil || !nn.SameShape(r.Projection.Shape, []int{1, 1, 28, 28}) {
		t.Fatalf("projection %v, want (1,1,28,28)", r.Projection)
	}
	want, err := deconv.Explain(context.Background(), deconv.Model{Net: net}, x, nil, "deconvnet",
		deconv.Goal{Layer: "c3", Channel: wantChannel}, deconv.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range want.Map.Data {
		if r.Projection.Data[i] != v {
			t.Fatalf("projection[%d] = %g, the deconvnet of the channel's strongest unit gives %g", i, r.Projection.Data[i], v)
		}
	}
}

// A chosen channel and label are kept; on a vector layer (f6) panel (b)
// is the unit itself; with no window the grid is deconv's default: a
// window of (28+3)/7 = 4 and a stride of 2 give 13x13 positions.
func TestOcclusionChosenChannelLabelAndVector(t *testing.T) {
	net := occNet(t)
	x := fig5Input(1, 28, 28, 4)
	r, err := Occlusion(context.Background(), net, x, OcclusionOptions{Layer: "f6", Channel: 17, Label: 7})
	if err != nil {
		t.Fatal(err)
	}
	if r.Channel != 17 || r.Label != 7 || r.Unit != (MapPos{}) || r.Window != 4 || r.Stride != 2 || r.Rows != 13 || r.Cols != 13 {
		t.Fatalf("channel %d label %d unit %+v window %d stride %d grid %dx%d; want 17, 7, (0,0), 4, 2, 13x13",
			r.Channel, r.Label, r.Unit, r.Window, r.Stride, r.Rows, r.Cols)
	}
	i, j := 6, 11
	out, logits := occForward(t, net, occluded(x, i*2, j*2, 4), "f6")
	k := i*13 + j
	if !occClose(r.Activation[k], float64(out.Data[17])) || !occClose(r.Probability[k], occSoftmax(logits, 7)) || r.Predicted[k] != occArgMax(logits) {
		t.Errorf("square (%d,%d): %g, %g, %d; a pass of its own gives %g, %g, %d", i, j,
			r.Activation[k], r.Probability[k], r.Predicted[k], out.Data[17], occSoftmax(logits, 7), occArgMax(logits))
	}
}

// Partial sees the result filling in: entries before done are final,
// those after still zero.
func TestOcclusionPartial(t *testing.T) {
	net := occNet(t)
	x := fig5Input(1, 28, 28, 5)
	var snaps [][]float32
	var dones []int
	r, err := Occlusion(context.Background(), net, x, OcclusionOptions{Layer: "c3", Channel: -1, Label: -1, Window: 8, Stride: 4, Batch: 16,
		Partial: func(r *OcclusionResult, done int) {
			if r.Projection == nil {
				t.Error("partial result without its projection")
			}
			dones = append(dones, done)
			snaps = append(snaps, append([]float32(nil), r.Probability...))
		}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dones, []int{16, 32, 36}) {
		t.Fatalf("partial at %v, want 16, 32, 36", dones)
	}
	for s, snap := range snaps {
		for k, v := range snap {
			if (k < dones[s] && v != r.Probability[k]) || (k >= dones[s] && v != 0) {
				t.Fatalf("after %d positions, probability[%d] = %g (final %g)", dones[s], k, v, r.Probability[k])
			}
		}
	}
}

// A context cancelled during the sweep stops it before the next batch.
func TestOcclusionStops(t *testing.T) {
	net := occNet(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	_, err := Occlusion(ctx, net, fig5Input(1, 28, 28, 6), OcclusionOptions{Layer: "c3", Channel: -1, Label: -1, Batch: 4,
		Progress: func(done, total int) { calls++; cancel() }})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("error %v after %d batches, want context.Canceled after 1", err, calls)
	}
}

func TestOcclusionRefuses(t *testing.T) {
	net := occNet(t)
	x := fig5Input(1, 28, 28, 7)
	for _, c := range []struct {
		opt  OcclusionOptions
		want string
	}{
		{OcclusionOptions{Channel: -1, Label: -1}, "needs a layer"},
		{OcclusionOptions{Layer: "c9", Channel: -1, Label: -1}, `"c9"`},
		{OcclusionOptions{Layer: "c3", Channel: 16, Label: -1}, "channel 16"},
		{OcclusionOptions{Layer: "c3", Channel: -2, Label: -1}, "channel -2"},
		{OcclusionOptions{Layer: "c3", Channel: -1, Label: 10}, "label 10"},
		{OcclusionOptions{Layer: "c3", Channel: -1, Label: -3}, "label -3"},
		{OcclusionOptions{Layer: "c3", Channel: -1, Label: -1, Window: 29}, "window 29"},
		{OcclusionOptions{Layer: "c3", Channel: -1, Label: -1, Window: -1}, "window -1"},
		{OcclusionOptions{Layer: "c3", Channel: -1, Label: -1, Stride: 29}, "stride 29"},
		{OcclusionOptions{Layer: "c3", Channel: -1, Label: -1, Batch: 100000}, "batch 100000"},
	} {
		if _, err := Occlusion(context.Background(), net, x, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one naming %s", c.opt, err, c.want)
		}
	}
	if _, err := Occlusion(context.Background(), net, nn.New(2, 1, 28, 28), OcclusionOptions{Layer: "c3", Channel: -1, Label: -1}); err == nil ||
		!strings.Contains(err.Error(), "[2, 1, 28, 28]") {
		t.Errorf("two pictures: %v", err)
	}
}

// Channels last: one sample's (H,W,C) data read channel by channel.
func TestOcclusionChannelsLast(t *testing.T) {
	// (1,2,2,3) channels last: channel k holds 10k+pixel, but channel 1's
	// first pixel is the largest of all.
	out := &nn.Tensor{Shape: []int{1, 2, 2, 3}, Data: []float32{
		0, 99, 20,
		1, 11, 21,
		2, 12, 22,
		3, 13, 23,
	}}
	if c := strongestChannel(out.Data, 3, true); c != 1 {
		t.Errorf("strongest channel %d, want 1", c)
	}
	if s := mapSum(out, 0, 2, true); s != 20+21+22+23 {
		t.Errorf("channel 2 sums to %g, want 86", s)
	}
	// A tie goes to the lower channel even when its value comes later in
	// the data.
	tie := []float32{0, 0, 0, 5, 0, 0, 0, 0, 5}
	if c := strongestChannel(tie, 3, true); c != 0 {
		t.Errorf("tie: channel %d, want 0", c)
	}
}

// Each pixel shows the square whose centre is nearest: with window 8 and
// stride 4 the centres are at 4, 8, ..., 24.
func TestOcclusionNearestSquare(t *testing.T) {
	for _, c := range []struct{ p, want int }{{0, 0}, {5, 0}, {6, 1}, {9, 1}, {13, 2}, {21, 4}, {22, 5}, {27, 5}} {
		if got := nearestSquare(c.p, 6, 8, 4); got != c.want {
			t.Errorf("pixel %d: square %d, want %d", c.p, got, c.want)
		}
	}
}

// The figure decodes as a PNG of five 168-pixel panels, and its pixels
// show the result: panel (e) at input pixel (14,14), whose nearest square
// is (3,3), is that square's class's colour, panel (d) its probability's.
func TestOcclusionFigure(t *testing.T) {
	net := occNet(t)
	x := fig5Input(1, 28, 28, 8)
	r, err := Occlusion(context.Background(), net, x, OcclusionOptions{Layer: "c3", Channel: -1, Label: -1, Window: 8, Stride: 4})
	if err != nil {
		t.Fatal(err)
	}
	pixels := x.Clone()
	for i, v := range pixels.Data {
		pixels.Data[i] = (v + 1) / 2
	}
	img, err := OcclusionFigure(english, "test", pixels, r, []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	pic, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	// 8 + 5 panels of 28·6 = 168 + 4 gaps of 14 + 8.
	if w := pic.Bounds().Dx(); w != 912 {
		t.Errorf("width %d, want 912", w)
	}
	// Panels start below two caption lines and a title: 8 + 2·15 + 6 + 15 + 4.
	const panelY = 63
	at := func(panel int) color.RGBA {
		x0 := 8 + panel*(168+14)
		return img.RGBAAt(x0+14*6+3, panelY+14*6+3)
	}
	k := 3*6 + 3
	if got, want := at(4), []color.RGBA{{78, 121, 167, 255}, {242, 142, 43, 255}, {225, 87, 89, 255}, {118, 183, 178, 255},
		{89, 161, 79, 255}, {237, 201, 72, 255}, {176, 122, 161, 255}, {255, 157, 167, 255}, {156, 117, 95, 255},
		{186, 176, 172, 255}}[r.Predicted[k]]; got != want {
		t.Errorf("panel (e) at (14,14): %v, want class %d's %v", got, r.Predicted[k], want)
	}
	if got := at(3); got != viridisByte(r.Probability[k]) {
		t.Errorf("panel (d) at (14,14): %v, want probability %g's %v", got, r.Probability[k], viridisByte(r.Probability[k]))
	}
	// The hint: the square's outline in the top-left corner of panel (a).
	if got := img.RGBAAt(8, panelY); got != (color.RGBA{220, 38, 38, 255}) {
		t.Errorf("panel (a)'s corner %v, want the red outline", got)
	}
	// In Vietnamese the same panels, in the same places, under other words.
	vi, err := OcclusionFigure(i18n.In(i18n.Vietnamese), "test", pixels, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if vi.Bounds() != img.Bounds() || vi.RGBAAt(8, panelY) != img.RGBAAt(8, panelY) || at(3) != vi.RGBAAt(8+3*(168+14)+14*6+3, panelY+14*6+3) {
		t.Errorf("the Vietnamese figure is laid out otherwise: %v against %v", vi.Bounds(), img.Bounds())
	}
	title := image.Rect(8, panelY-19, 8+168, panelY-4) // panel (a)'s title
	if differ := func() bool {
		for y := title.Min.Y; y < title.Max.Y; y++ {
			for x := title.Min.X; x < title.Max.X; x++ {
				if vi.RGBAAt(x, y) != img.RGBAAt(x, y) {
					return true
				}
			}
		}
		return false
	}(); !differ {
		t.Error("panel (a)'s title reads the same in Vietnamese")
	}
	if _, err := OcclusionFigure(english, "", nn.New(1, 1, 14, 14), r, nil); err == nil || !strings.Contains(err.Error(), "14x14") {
		t.Errorf("pixels of another size: %v", err)
	}
	if _, err := OcclusionFigure(english, "", pixels, nil, nil); err == nil {
		t.Error("no result drawn")
	}
}

// viridisByte is p in [0,1] on Viridis as the test reads the colour map:
// entry round(255·p).
func viridisByte(p float32) color.RGBA {
	return viz.Viridis[int(math.Round(255*float64(p)))]
}
