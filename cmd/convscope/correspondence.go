package main

// convscope correspondence: Zeiler & Fergus' Table 1 (Figure 8) for a few
// pictures of one class and a box around the same part in each.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
)

// maxCorrespondenceImages bounds -image (Δ compares every pair).
const maxCorrespondenceImages = 20

// maxCorrespondenceTrials bounds -trials.
const maxCorrespondenceTrials = 1000

func correspondence(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("correspondence", flag.ContinueOnError)
	name := fs.String("model", "", "model name (default: the checkpoint's)")
	weights := fs.String("weights", "", "convscope checkpoint or PyTorch state_dict; empty: random init")
	initSeed := fs.Uint64("init-seed", 0, "seed of the random initialisation when -weights is empty")
	var images, boxList repeatable
	fs.Var(&images, "image", "picture of the class (PNG, JPEG, GIF); repeat, at least 2")
	fs.Var(&boxList, "box", "x0,y0,x1,y1: the part in the matching -image, in model-input pixels (after the card's resizing); repeat")
	layerList := fs.String("layers", "", "layers NAME,NAME (default: the first convolution and the last hidden layer)")
	trials := fs.Int("trials", 10, "random boxes per picture, for the random row")
	seed := fs.Uint64("seed", 1, "seed of the random boxes")
	asJSON := fs.Bool("json", false, "print the table as JSON")
	out := fs.String("out", "", "also draw the pictures with their parts and the table to FILE.png")
	dataset := fs.String("data", "", "instead of -image: the first -n test pictures of -class in this dataset (one -box for all, or one each)")
	dataDir := fs.String("data-dir", "", "directory holding the dataset files (default: searched)")
	class := fs.Int("class", 0, "with -data: the class whose pictures are compared")
	count := fs.Int("n", 5, "with -data: how many pictures")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataset != "" {
		return correspondenceOfClass(ctx, stdout, *name, *weights, *initSeed, *dataset, *dataDir, *class, *count, boxList, *layerList, *trials, *seed, *asJSON, *out)
	}
	if len(images) < 2 || len(images) > maxCorrespondenceImages {
		return fmt.Errorf("give 2 to %d -image pictures, got %d", maxCorrespondenceImages, len(images))
	}
	if len(boxList) != len(images) {
		return fmt.Errorf("%d -box for %d -image; give one box per picture", len(boxList), len(images))
	}
	if *trials < 1 || *trials > maxCorrespondenceTrials {
		return fmt.Errorf("-trials %d: want 1 to %d", *trials, maxCorrespondenceTrials)
	}
	boxes, err := parseBoxes(boxList)
	if err != nil {
		return err
	}
	m, mc, err := loadModel(*name, *weights, *initSeed)
	if err != nil {
		return err
	}
	xs, err := loadExperimentInputs(m, mc, images)
	if err != nil {
		return err
	}
	layers, err := experimentLayers(m, *layerList)
	if err != nil {
		return err
	}
	rows, err := experiment.Correspondence(ctx, m.Net, xs, boxes, layers, *trials, *seed)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := writeCorrespondenceFigure(*out, mc, *weights, strings.Join(images, ", "), xs, boxes, rows, *trials); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"model": m.Name, "images": []string(images),
			"boxes": boxList, "trials": *trials, "seed": *seed, "layers": rows})
	}
	printCorrespondence(stdout, rows, len(images), *trials)
	return nil
}

// parseBoxes reads each -box "x0,y0,x1,y1" (x1 > x0, y1 > y0).
func parseBoxes(list []string) ([]image.Rectangle, error) {
	var out []image.Rectangle
	for _, s := range list {
		f := strings.Split(s, ",")
		if len(f) != 4 {
			return nil, fmt.Errorf("-box %q: want x0,y0,x1,y1", s)
		}
		var v [4]int
		for i := range f {
			n, err := strconv.Atoi(strings.TrimSpace(f[i]))
			if err != nil {
				return nil, fmt.Errorf("-box %q: %q is not a whole number", s, f[i])
			}
			v[i] = n
		}
		if v[2] <= v[0] || v[3] <= v[1] {
			return nil, fmt.Errorf("-box %q: want x1 > x0 and y1 > y0", s)
		}
		out = append(out, image.Rect(v[0], v[1], v[2], v[3]))
	}
	return out, nil
}

// printCorrespondence writes Table 1 as text: per layer, Δ for the parts
// and for random boxes, and both as a fraction of the comparisons.
func printCorrespondence(w io.Writer, rows []experiment.CorrespondenceResult, n, trials int) {
	fmt.Fprintf(w, "%d pictures (%d pairs), random: mean ± std over %d trials\n", n, n*(n-1)/2, trials)
	fmt.Fprintf(w, "%-20s %9s %10s %20s %10s %10s\n", "layer", "features", "part Δ", "random Δ", "part/cmp", "random/cmp")
	for _, r := range rows {
		random := fmt.Sprintf("%.1f ± %.1f", r.Random, r.RandomStd)
		fmt.Fprintf(w, "%-20s %9d %10d %20s %10.4f %10.4f\n", r.Layer, r.Features, r.Part, random, r.PartNormalized, r.RandomNormalized)
	}
}

// correspondenceOfClass is correspondence on the first n test pictures of
// class in dataset, with one box for all of them or one each.
func correspondenceOfClass(ctx context.Context, stdout io.Writer, name, weights string, initSeed uint64, dataset, dataDir string,
	class, n int, boxList []string, layerList string, trials int, seed uint64, asJSON bool, out string) error {
	if n < 2 || n > maxCorrespondenceImages {
		return fmt.Errorf("-n %d: want 2 to %d", n, maxCorrespondenceImages)
	}
	if len(boxList) != 1 && len(boxList) != n {
		return fmt.Errorf("%d -box for %d pictures; give one box for all, or one each", len(boxList), n)
	}
	if trials < 1 || trials > maxCorrespondenceTrials {
		return fmt.Errorf("-trials %d: want 1 to %d", trials, maxCorrespondenceTrials)
	}
	given, err := parseBoxes(boxList)
	if err != nil {
		return err
	}
	m, mc, err := loadModel(name, weights, initSeed)
	if err != nil {
		return err
	}
	set, err := data.OpenImages(dataset, dataDir, false)
	if err != nil {
		return err
	}
	if !slices.Equal(set.Shape(), m.Input) {
		return fmt.Errorf("%s's images are %v, %s takes %v", dataset, set.Shape(), m.Name, m.Input)
	}
	set.Mean, set.Std = mc.Pre.Mean, mc.Pre.Std
	var xs []*nn.Tensor
	var boxes []image.Rectangle
	var indices []int
	for i := 0; i < set.Len() && len(xs) < n; i++ {
		if set.Labels[i] != class {
			continue
		}
		x := nn.New(append([]int{1}, set.Shape()...)...)
		set.Fill(i, x.Data)
		xs = append(xs, x)
		boxes = append(boxes, given[min(len(xs)-1, len(given)-1)])
		indices = append(indices, i)
	}
	if len(xs) < n {
		return fmt.Errorf("%s's test set has %d pictures of class %d, not %d", dataset, len(xs), class, n)
	}
	layers, err := experimentLayers(m, layerList)
	if err != nil {
		return err
	}
	rows, err := experiment.Correspondence(ctx, m.Net, xs, boxes, layers, trials, seed)
	if err != nil {
		return err
	}
	if out != "" {
		what := fmt.Sprintf("%s's first %d test pictures of %s", dataset, len(xs), cardClass(mc, class))
		if err := writeCorrespondenceFigure(out, mc, weights, what, xs, boxes, rows, trials); err != nil {
			return err
		}
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"model": m.Name, "dataset": dataset, "class": class, "indices": indices,
			"boxes": boxList, "trials": trials, "seed": seed, "layers": rows})
	}
	printCorrespondence(stdout, rows, len(xs), trials)
	return nil
}

// writeCorrespondenceFigure draws the pictures compared with their parts
// outlined, under a caption and the table.
func writeCorrespondenceFigure(path string, mc card.Card, weights, what string, xs []*nn.Tensor, boxes []image.Rectangle,
	rows []experiment.CorrespondenceResult, trials int) error {
	if weights == "" {
		weights = "random initialisation"
	}
	lines := []string{fmt.Sprintf("%s (%s): correspondence of parts, %s", mc.Name, weights, what),
		fmt.Sprintf("%-16s %9s %10s %22s", "layer", "features", "part D", fmt.Sprintf("random D (%d trials)", trials))}
	for _, r := range rows {
		lines = append(lines, fmt.Sprintf("%-16s %9d %10d %22s", r.Layer, r.Features, r.Part, fmt.Sprintf("%.1f +/- %.1f", r.Random, r.RandomStd)))
	}
	h, w := xs[0].Shape[2], xs[0].Shape[3]
	zoom := max(1, 96/max(h, w))
	const pad = 8
	top := pad + len(lines)*viz.LineHeight + pad
	width := pad + len(xs)*(w*zoom+pad)
	for _, l := range lines {
		width = max(width, viz.TextWidth(l)+2*pad)
	}
	img := viz.Canvas(width, top+h*zoom+pad)
	for i, l := range lines {
		viz.Text(img, pad, pad+i*viz.LineHeight, l, viz.Ink)
	}
	for k, x := range xs {
		pic, err := viz.Pixels(mc.Denormalize(x))
		if err != nil {
			return err
		}
		big := viz.Upscale(pic, zoom)
		b := boxes[k]
		viz.DrawBox(big, image.Rectangle{b.Min.Mul(zoom), b.Max.Mul(zoom)}, color.RGBA{250, 204, 21, 255})
		viz.Paste(img, big, image.Pt(pad+k*(w*zoom+pad), top))
	}
	png, err := viz.PNG(img)
	if err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}
