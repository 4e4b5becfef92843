package data

// Transforms as torchvision names them, on one (C,H,W) float32 picture.
// Each is a small value type whose comment gives torchvision's semantics;
// the random ones draw from an explicit *rand.Rand, in torchvision's order
// of draws (the numbers differ: this is PCG, not torch's Mersenne
// Twister), so a pipeline is reproducible from a seed. Geometry, defaults
// and rounding (Python's round, half to even) follow torchvision; resizing
// is antialiased bilinear, torchvision's tensor path with antialias=True
// (the same filter as PIL's BILINEAR). Not here: colour jitter, rotations,
// AutoAugment, or transforms on batches.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/convscope/convscope/nn"
)

// Transform changes one picture. x is (C,H,W); Apply returns the result,
// which may be x itself changed in place, or a new tensor of another
// size. Deterministic transforms ignore rng, which may then be nil.
// Misconfiguration (a crop larger than the padded picture, a mean per
// channel for another number of channels) panics: it is a programming
// error, not bad data.
type Transform interface {
	Apply(x *nn.Tensor, rng *rand.Rand) *nn.Tensor
}

// CIFAR-10's normalisation as the seed's notebooks use it (measured on the
// training set: mean and std of each channel in [0,1]).
var (
	CIFAR10Mean = []float32{0.4914, 0.4822, 0.4465}
	CIFAR10Std  = []float32{0.2470, 0.2435, 0.2616}
)

// dims returns x's (C,H,W), panicking on another rank.
func dims(x *nn.Tensor, who string) (c, h, w int) {
	if len(x.Shape) != 3 {
		panic(fmt.Sprintf("data.%s: picture of shape %v, want (C,H,W)", who, x.Shape))
	}
	return x.Shape[0], x.Shape[1], x.Shape[2]
}

// Compose applies its transforms in order, as torchvision's Compose.
type Compose []Transform

// Apply runs every transform on the previous one's result.
func (t Compose) Apply(x *nn.Tensor, rng *rand.Rand) *nn.Tensor {
	for _, tr := range t {
		x = tr.Apply(x, rng)
	}
	return x
}

// Resize is torchvision's Resize(size) on a tensor, antialiased bilinear.
// With Width 0 it is Resize(Height) (an int size): the smaller edge
// becomes Height and the other int(Height·long/short), truncated, as
// torchvision computes it. Otherwise it is Resize((Height, Width)).
type Resize struct{ Height, Width int }

// Apply returns x resized (a new tensor, or x when the size is unchanged).
func (t Resize) Apply(x *nn.Tensor, _ *rand.Rand) *nn.Tensor {
	_, h, w := dims(x, "Resize")
	oh, ow := t.Height, t.Width
	if ow == 0 {
		if w <= h {
			ow, oh = t.Height, int(float64(t.Height)*float64(h)/float64(w))
		} else {
			oh, ow = t.Height, int(float64(t.Height)*float64(w)/float64(h))
		}
	}
	if oh <= 0 || ow <= 0 {
		panic(fmt.Sprintf("data.Resize: output %dx%d", oh, ow))
	}
	return resizeBilinear(x, oh, ow)
}

// CenterCrop is torchvision's CenterCrop((Height, Width)): the central
// Height×Width window, its top-left corner at round((H-Height)/2),
// round((W-Width)/2) (halves to even). A picture smaller than the window
// is first padded with zeros, (Width-W)/2 columns on the left and the rest
// on the right (rows likewise), as torchvision does.
type CenterCrop struct{ Height, Width int }

// Apply returns the window as a new tensor (x itself when sizes match).
func (t CenterCrop) Apply(x *nn.Tensor, _ *rand.Rand) *nn.Tensor {
	_, h, w := dims(x, "CenterCrop")
	if h == t.Height && w == t.Width {
		return x
	}
	var padTop, padLeft int
	if t.Width > w {
		padLeft, w = (t.Width-w)/2, t.Width
	}
	if t.Height > h {
		padTop, h = (t.Height-h)/2, t.Height
	}
	top := int(math.RoundToEven(float64(h-t.Height) / 2))
	left := int(math.RoundToEven(float64(w-t.Width) / 2))
	return cropPad(x, top-padTop, left-padLeft, t.Height, t.Width, 0)
}

// RandomCrop is torchvision's RandomCrop((Height, Width), padding=Padding,
// pad_if_needed=PadIfNeeded, fill=Fill, padding_mode="constant"): the
// picture is padded with Padding pixels of value Fill on every side (0,
// black before Normalize, by default), and, with PadIfNeeded, further by
// Width-W' columns on both the left and the right when it is still
// narrower than Width (rows likewise); then a Height×Width window is
// taken at a top-left corner drawn uniformly, top first, over every
// position that fits. CIFAR training uses RandomCrop{32, 32, 4, ...}.
type RandomCrop struct {
	Height, Width int
	Padding       int
	PadIfNeeded   bool
	Fill          float32
}

// Params draws the window for an h×w picture: its top-left corner in the
// padded picture's coordinates, and the padding on the top and left (so
// the window starts at (top-padTop, left-padLeft) of the picture itself).
// As torchvision, nothing is drawn when the padded picture has exactly the
// window's size.
func (t RandomCrop) Params(h, w int, rng *rand.Rand) (top, left, padTop, padLeft int) {
	padTop, padLeft = t.Padding, t.Padding
	ph, pw := h+2*t.Padding, w+2*t.Padding
	if t.PadIfNeeded && pw < t.Width {
		padLeft += t.Width - pw
		pw += 2 * (t.Width - pw)
	}
	if t.PadIfNeeded && ph < t.Height {
		padTop += t.Height - ph
		ph += 2 * (t.Height - ph)
	}
	if ph < t.Height || pw < t.Width {
		panic(fmt.Sprintf("data.RandomCrop: crop %dx%d is larger than the padded picture %dx%d", t.Height, t.Width, ph, pw))
	}
	if ph == t.Height && pw == t.Width {
		return 0, 0, padTop, padLeft
	}
	top = rng.IntN(ph - t.Height + 1)
	left = rng.IntN(pw - t.Width + 1)
	return top, left, padTop, padLeft
}

// Apply returns the window as a new tensor.
func (t RandomCrop) Apply(x *nn.Tensor, rng *rand.Rand) *nn.Tensor {
	_, h, w := dims(x, "RandomCrop")
	top, left, pt, pl := t.Params(h, w, rng)
	return cropPad(x, top-pt, left-pl, t.Height, t.Width, t.Fill)
}

// RandomHorizontalFlip is torchvision's RandomHorizontalFlip(p=P): the
// picture is mirrored left to right when a uniform draw in [0,1) is below
// P. One number is drawn on every call. torchvision's default P is 0.5;
// here P is always as given (0 never flips).
type RandomHorizontalFlip struct{ P float64 }

// Apply mirrors x in place, or leaves it, and returns it.
func (t RandomHorizontalFlip) Apply(x *nn.Tensor, rng *rand.Rand) *nn.Tensor {
	c, h, w := dims(x, "RandomHorizontalFlip")
	if rng.Float64() < t.P {
		for r := range c * h {
			slices.Reverse(x.Data[r*w : (r+1)*w])
		}
	}
	return x
}

// RandomResizedCrop is torchvision's RandomResizedCrop((Height, Width),
// scale=Scale, ratio=Ratio) with antialiased bilinear resizing: up to 10
// times, an area fraction s is drawn uniformly in Scale and an aspect
// ratio r (width/height) log-uniformly in Ratio, giving a box of
// w = round(sqrt(s·A·r)) by h = round(sqrt(s·A/r)); the first box that
// fits (0 < w <= W, 0 < h <= H) is placed uniformly (top, then left).
// When none fits, the fallback is central: the whole picture, or its
// central part clamped to the ratio range. The box is then resized to
// Height×Width. Zero Scale and Ratio mean torchvision's defaults,
// (0.08, 1) and (3/4, 4/3).
type RandomResizedCrop struct {
	Height, Width int
	Scale, Ratio  [2]float64
}

func (t RandomResizedCrop) ranges() (scale, ratio [2]float64) {
	scale, ratio = t.Scale, t.Ratio
	if scale == [2]float64{} {
		scale = [2]float64{0.08, 1}
	}
	if ratio == [2]float64{} {
		ratio = [2]float64{3.0 / 4, 4.0 / 3}
	}
	return scale, ratio
}

// Params draws the box for an h×w picture: its top-left corner and size.
func (t RandomResizedCrop) Params(h, w int, rng *rand.Rand) (top, left, bh, bw int) {
	scale, ratio := t.ranges()
	area := float64(h * w)
	lo, hi := math.Log(ratio[0]), math.Log(ratio[1])
	for range 10 {
		target := area * uniform(rng, scale[0], scale[1])
		ar := math.Exp(uniform(rng, lo, hi))
		bw = int(math.RoundToEven(math.Sqrt(target * ar)))
		bh = int(math.RoundToEven(math.Sqrt(target / ar)))
		if 0 < bw && bw <= w && 0 < bh && bh <= h {
			top = rng.IntN(h - bh + 1)
			left = rng.IntN(w - bw + 1)
			return top, left, bh, bw
		}
	}
	// torchvision's fallback: a central crop within the ratio range.
	in := float64(w) / float64(h)
	switch {
	case in < min(ratio[0], ratio[1]):
		bw = w
		bh = int(math.RoundToEven(float64(bw) / min(ratio[0], ratio[1])))
	case in > max(ratio[0], ratio[1]):
		bh = h
		bw = int(math.RoundToEven(float64(bh) * max(ratio[0], ratio[1])))
	default:
		bw, bh = w, h
	}
	return (h - bh) / 2, (w - bw) / 2, bh, bw
}

// uniform is torch's uniform_(a, b): a + (b-a)·U[0,1).
func uniform(rng *rand.Rand, a, b float64) float64 { return a + (b-a)*rng.Float64() }

// Apply returns the resized box as a new tensor.
func (t RandomResizedCrop) Apply(x *nn.Tensor, rng *rand.Rand) *nn.Tensor {
	_, h, w := dims(x, "RandomResizedCrop")
	top, left, bh, bw := t.Params(h, w, rng)
	return resizeBilinear(cropPad(x, top, left, bh, bw, 0), t.Height, t.Width)
}

// Normalize is torchvision's Normalize(mean, std): channel c becomes
// (x - Mean[c]) / Std[c]. One value applies to every channel. CIFAR10Mean
// and CIFAR10Std, or ImageNetMean and ImageNetStd, are the usual presets.
type Normalize struct{ Mean, Std []float32 }

// Apply normalises x in place and returns it.
func (t Normalize) Apply(x *nn.Tensor, _ *rand.Rand) *nn.Tensor {
	c, h, w := dims(x, "Normalize")
	for ch := range c {
		m, s := channelValue(t.Mean, ch, c, 0, "Mean"), channelValue(t.Std, ch, c, 1, "Std")
		plane := x.Data[ch*h*w : (ch+1)*h*w]
		for i, v := range plane {
			plane[i] = (v - m) / s
		}
	}
	return x
}

// RandomErasing is torchvision's RandomErasing(p=P, scale=Scale,
// ratio=Ratio, value=Value) (Zhong et al., 2017), applied after
// Normalize: when a uniform draw is below P, up to 10 times an area
// fraction s is drawn uniformly in Scale and a ratio r log-uniformly in
// Ratio, giving a box of h = round(sqrt(s·A·r)) rows by
// w = round(sqrt(s·A/r)) columns; the first with h < H and w < W is placed
// uniformly (top, then left) and every channel set to Value there (or,
// with Random, to standard normal noise: torchvision's value="random").
// When no box fits, the picture is left as it was. Zero Scale and Ratio
// mean torchvision's defaults, (0.02, 0.33) and (0.3, 3.3); P is as given
// (torchvision's default is 0.5).
type RandomErasing struct {
	P            float64
	Scale, Ratio [2]float64
	Value        float32
	Random       bool
}

func (t RandomErasing) ranges() (scale, ratio [2]float64) {
	scale, ratio = t.Scale, t.Ratio
	if scale == [2]float64{} {
		scale = [2]float64{0.02, 0.33}
	}
	if ratio == [2]float64{} {
		ratio = [2]float64{0.3, 3.3}
	}
	return scale, ratio
}

// Params draws the box for an h×w picture, after the draw against P; ok is
// false when nothing is erased (the draw was not below P, or no box fit).
func (t RandomErasing) Params(h, w int, rng *rand.Rand) (top, left, bh, bw int, ok bool) {
	if !(rng.Float64() < t.P) {
		return 0, 0, 0, 0, false
	}
	scale, ratio := t.ranges()
	area := float64(h * w)
	lo, hi := math.Log(ratio[0]), math.Log(ratio[1])
	for range 10 {
		target := area * uniform(rng, scale[0], scale[1])
		ar := math.Exp(uniform(rng, lo, hi))
		bh = int(math.RoundToEven(math.Sqrt(target * ar)))
		bw = int(math.RoundToEven(math.Sqrt(target / ar)))
		if !(bh < h && bw < w) {
			continue
		}
		top = rng.IntN(h - bh + 1)
		left = rng.IntN(w - bw + 1)
		return top, left, bh, bw, true
	}
	return 0, 0, 0, 0, false
}

// Apply erases the box in x in place and returns x.
func (t RandomErasing) Apply(x *nn.Tensor, rng *rand.Rand) *nn.Tensor {
	c, h, w := dims(x, "RandomErasing")
	top, left, bh, bw, ok := t.Params(h, w, rng)
	if !ok {
		return x
	}
	for ch := range c {
		for y := top; y < top+bh; y++ {
			row := x.Data[(ch*h+y)*w+left : (ch*h+y)*w+left+bw]
			for i := range row {
				if t.Random {
					row[i] = float32(rng.NormFloat64())
				} else {
					row[i] = t.Value
				}
			}
		}
	}
	return x
}

// cropPad returns the h×w window of x whose top-left corner is at (top,
// left), which may lie outside x: pixels outside take fill. A new tensor.
func cropPad(x *nn.Tensor, top, left, h, w int, fill float32) *nn.Tensor {
	c, sh, sw := dims(x, "crop")
	out := nn.New(c, h, w)
	// The columns of the window inside x: [x0, x1) of the output.
	x0, x1 := min(max(-left, 0), w), max(min(sw-left, w), 0)
	x0 = min(x0, x1)
	for ch := range c {
		for y := range h {
			row := out.Data[(ch*h+y)*w : (ch*h+y+1)*w]
			sy := top + y
			if sy < 0 || sy >= sh {
				fillRow(row, fill)
				continue
			}
			fillRow(row[:x0], fill)
			if x1 > x0 {
				copy(row[x0:x1], x.Data[(ch*sh+sy)*sw+left+x0:])
			}
			fillRow(row[x1:], fill)
		}
	}
	return out
}

func fillRow(row []float32, v float32) {
	if v == 0 {
		clear(row)
		return
	}
	for i := range row {
		row[i] = v
	}
}
