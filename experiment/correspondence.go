package experiment

// Correspondence: Zeiler & Fergus' Figure 8 and Table 1. The same part of
// an object (an eye, a nose) is masked in several pictures of one class,
// and we count how consistently a layer's features change: for each
// picture i, ε_i = f(x_i) − f(x_i with the part masked), and
//
//	Δ = Σ_{i<j} H(sign(ε_i), sign(ε_j))
//
// where H is the Hamming distance, the number of features whose signs
// differ (sign 0 is a value of its own). A low Δ next to that of random
// boxes of the same sizes means the layer relates the part across pictures.

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"github.com/convscope/convscope/nn"
)

// CorrespondenceResult is one layer's row of Table 1.
type CorrespondenceResult struct {
	Layer string `json:"layer"`
	// Part is Δ with the given boxes masked.
	Part int `json:"part"`
	// Random and RandomStd are the mean and standard deviation (over the
	// trials, population) of Δ with boxes of the same sizes at random places.
	Random    float64 `json:"random"`
	RandomStd float64 `json:"randomStd"`
	// Pairs is n(n-1)/2 for n pictures, Features the layer's output size
	// per picture: Δ is at most Pairs·Features.
	Pairs    int `json:"pairs"`
	Features int `json:"features"`
	// PartNormalized and RandomNormalized are Part and Random divided by
	// Pairs·Features: the fraction of sign comparisons that disagree.
	PartNormalized   float64 `json:"partNormalized"`
	RandomNormalized float64 `json:"randomNormalized"`
}

// Correspondence computes Table 1 at each of layers (dotted names) for
// pictures xs, each (1,C,H,W) and normalised, of one class, with boxes[i]
// the part in picture i in input pixels. A box is masked by setting it to
// 0 in normalised space (the dataset's mean colour) in every channel. The
// random rows mask, trials times, a box of each picture's box's size at a
// random place inside it (RandomBoxes with seed).
//
// The passes run one variant at a time (plain, part, each trial), all
// pictures in one batch in the same order, so a picture's plain and masked
// features come from the same product at the same place in the batch:
// features the box cannot reach have ε exactly 0, not rounding noise.
// ctx is checked between batches.
func Correspondence(ctx context.Context, net *nn.Sequential, xs []*nn.Tensor, boxes []image.Rectangle,
	layers []string, trials int, seed uint64) ([]CorrespondenceResult, error) {
	if err := checkCorrespondence(xs, boxes, layers, trials); err != nil {
		return nil, err
	}
	n, shape := len(xs), xs[0].Shape[1:]
	variants := append([][]image.Rectangle{nil, boxes}, RandomBoxes(boxes, shape[1], shape[2], trials, seed)...)
	plain := make([][][]float32, len(layers)) // [layer][picture]
	deltas := make([][]int, len(layers))      // [layer][variant-1]
	fill := func(i int, dst []float32) {
		copy(dst, xs[i%n].Data)
		if v := variants[i/n]; v != nil {
			maskBox(dst, shape, v[i%n])
		}
	}
	seen := func(tr *nn.Trace, from, _ int) error {
		for l, name := range layers {
			outs := make([][]float32, n)
			for b := range n {
				f, err := layerSample(tr, name, b)
				if err != nil {
					return err
				}
				outs[b] = f
			}
			if from == 0 {
				plain[l] = copyVectors(outs)
				continue
			}
			deltas[l] = append(deltas[l], signDelta(plain[l], outs))
		}
		return nil
	}
	if err := forwardEach(ctx, net, shape, n*len(variants), n, fill, seen, nil); err != nil {
		return nil, err
	}
	out := make([]CorrespondenceResult, len(layers))
	for l, name := range layers {
		out[l] = correspondenceRow(name, n, len(plain[l][0]), deltas[l])
	}
	return out, nil
}

// checkCorrespondence refuses what Correspondence cannot run before any pass.
func checkCorrespondence(xs []*nn.Tensor, boxes []image.Rectangle, layers []string, trials int) error {
	if len(xs) < 2 {
		return fmt.Errorf("experiment: correspondence needs at least 2 pictures, got %d", len(xs))
	}
	if len(boxes) != len(xs) {
		return fmt.Errorf("experiment: %d boxes for %d pictures, want one each", len(boxes), len(xs))
	}
	if len(layers) == 0 {
		return fmt.Errorf("experiment: correspondence needs at least one layer")
	}
	if trials < 1 {
		return fmt.Errorf("experiment: %d random trials, want at least 1", trials)
	}
	for i, x := range xs {
		if err := checkOneSample(x, fmt.Sprintf("picture %d", i)); err != nil {
			return err
		}
		if !nn.SameShape(x.Shape, xs[0].Shape) {
			return fmt.Errorf("experiment: picture %d is %s, picture 0 %s; want one size", i, nn.ShapeString(x.Shape), nn.ShapeString(xs[0].Shape))
		}
		h, w := x.Shape[2], x.Shape[3]
		if b := boxes[i]; b.Empty() || !b.In(image.Rect(0, 0, w, h)) {
			return fmt.Errorf("experiment: box %d %v is empty or not inside the %dx%d picture", i, b, w, h)
		}
	}
	return nil
}

// RandomBoxes draws, trials times, one box per picture with the size of
// boxes[i], placed uniformly where it fits inside an h×w picture, from a
// PCG generator seeded with seed: the same arguments give the same boxes.
func RandomBoxes(boxes []image.Rectangle, h, w, trials int, seed uint64) [][]image.Rectangle {
	r := rand.New(rand.NewPCG(seed, 0x7a62_6c31)) // second word: "zbl1", fixed
	out := make([][]image.Rectangle, trials)
	for t := range out {
		out[t] = make([]image.Rectangle, len(boxes))
		for i, b := range boxes {
			x0, y0 := r.IntN(w-b.Dx()+1), r.IntN(h-b.Dy()+1)
			out[t][i] = image.Rect(x0, y0, x0+b.Dx(), y0+b.Dy())
		}
	}
	return out
}

// maskBox sets box to 0 in every channel of one sample x of shape (C,H,W).
func maskBox(x []float32, shape []int, box image.Rectangle) {
	c, h, w := shape[0], shape[1], shape[2]
	for ch := range c {
		for y := box.Min.Y; y < box.Max.Y; y++ {
			clear(x[(ch*h+y)*w+box.Min.X : (ch*h+y)*w+box.Max.X])
		}
	}
}

// copyVectors returns copies of vs.
func copyVectors(vs [][]float32) [][]float32 {
	out := make([][]float32, len(vs))
	for i, v := range vs {
		out[i] = append([]float32(nil), v...)
	}
	return out
}

// signDelta is Δ for pictures whose plain features are plain[i] and
// masked ones masked[i]: ε_i = plain[i] − masked[i].
func signDelta(plain, masked [][]float32) int {
	signs := make([][]int8, len(plain))
	for i := range plain {
		signs[i] = signOfDiff(plain[i], masked[i])
	}
	return signChanges(signs)
}

// signOfDiff is sign(a − b) per feature: -1, 0 or 1.
func signOfDiff(a, b []float32) []int8 {
	out := make([]int8, len(a))
	for i := range a {
		switch d := a[i] - b[i]; {
		case d > 0:
			out[i] = 1
		case d < 0:
			out[i] = -1
		}
	}
	return out
}

// signChanges is Σ_{i<j} H(s_i, s_j), H counting the positions that differ.
func signChanges(signs [][]int8) int {
	total := 0
	for i := range signs {
		for j := i + 1; j < len(signs); j++ {
			for k := range signs[i] {
				if signs[i][k] != signs[j][k] {
					total++
				}
			}
		}
	}
	return total
}

// correspondenceRow makes a layer's row from its Δs: deltas[0] for the
// part, the rest for the random trials.
func correspondenceRow(layer string, n, features int, deltas []int) CorrespondenceResult {
	r := CorrespondenceResult{Layer: layer, Part: deltas[0], Pairs: n * (n - 1) / 2, Features: features}
	random := deltas[1:]
	for _, d := range random {
		r.Random += float64(d)
	}
	r.Random /= float64(len(random))
	for _, d := range random {
		r.RandomStd += (float64(d) - r.Random) * (float64(d) - r.Random)
	}
	r.RandomStd = math.Sqrt(r.RandomStd / float64(len(random)))
	if cells := float64(r.Pairs * r.Features); cells > 0 {
		r.PartNormalized = float64(r.Part) / cells
		r.RandomNormalized = r.Random / cells
	}
	return r
}
