package main

// convscope invariance: Zeiler & Fergus' Figure 5 for up to five pictures,
// as JSON or as the paper's three charts (SVG).

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/zoo"
)

// maxInvarianceImages bounds -image: the paper's figure has five pictures.
const maxInvarianceImages = 5

// maxInvarianceSteps bounds -steps.
const maxInvarianceSteps = 361

// repeatable is a repeatable string flag (-image A -image B).
type repeatable []string

// String lists the values given so far.
func (p *repeatable) String() string { return strings.Join(*p, ",") }

// Set adds one value.
func (p *repeatable) Set(s string) error {
	*p = append(*p, s)
	return nil
}

// invarianceImage is one picture's entry of invariance's JSON: the file,
// the class measured, and experiment.InvarianceResult's fields.
type invarianceImage struct {
	Image string `json:"image"`
	Label int    `json:"label"`
	Class string `json:"class"`
	*experiment.InvarianceResult
}

func invariance(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("invariance", flag.ContinueOnError)
	name := fs.String("model", "", "model name (default: the checkpoint's)")
	weights := fs.String("weights", "", "convscope checkpoint or PyTorch state_dict; empty: random init")
	initSeed := fs.Uint64("init-seed", 0, "seed of the random initialisation when -weights is empty")
	var images repeatable
	fs.Var(&images, "image", "input picture (PNG, JPEG, GIF); repeat for up to 5")
	label := fs.Int("label", -1, "true class of every picture (default: the model's top class on each plain picture)")
	labels := fs.String("labels", "", "true classes K1,K2,... one per -image")
	kind := fs.String("kind", "translate", "translate (fraction of the width, -0.3..0.3), scale (0.5..1.5) or rotate (0..360 degrees)")
	steps := fs.Int("steps", 13, "number of transforms, both ends of the range included")
	layerList := fs.String("layers", "", "layers NAME,NAME (default: the first convolution and the last hidden layer)")
	batch := fs.Int("batch", 16, "transformed pictures per forward pass")
	asJSON := fs.Bool("json", false, "print the curves as JSON")
	out := fs.String("out", "", "directory for the charts invariance-KIND-LAYER.svg and invariance-KIND-probability.svg")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkInvarianceFlags(images, *kind, *steps, *asJSON, *out); err != nil {
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
	classes, err := trueClasses(m, xs, *label, *labels)
	if err != nil {
		return err
	}
	layers, err := experimentLayers(m, *layerList)
	if err != nil {
		return err
	}
	ts := experiment.Sweep(*kind, *steps)
	var results []invarianceImage
	for i, x := range xs {
		r, err := experiment.Invariance(ctx, m.Net, x, classes[i], layers, ts, *batch, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", images[i], err)
		}
		results = append(results, invarianceImage{Image: images[i], Label: classes[i], Class: cardClass(mc, classes[i]), InvarianceResult: r})
	}
	if *out != "" {
		if err := writeInvarianceCharts(*out, *kind, layers, results, stdout, !*asJSON); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"model": m.Name, "kind": *kind, "layers": layers, "images": results})
	}
	return nil
}

// checkInvarianceFlags refuses bad flags before the model is loaded.
func checkInvarianceFlags(images []string, kind string, steps int, asJSON bool, out string) error {
	if len(images) == 0 || len(images) > maxInvarianceImages {
		return fmt.Errorf("give 1 to %d -image pictures, got %d", maxInvarianceImages, len(images))
	}
	if err := experiment.CheckKind(kind); err != nil {
		return fmt.Errorf("-kind: %w", err)
	}
	if steps < 2 || steps > maxInvarianceSteps {
		return fmt.Errorf("-steps %d: want 2 to %d", steps, maxInvarianceSteps)
	}
	if !asJSON && out == "" {
		return fmt.Errorf("-json or -out DIR is required")
	}
	return nil
}

// loadExperimentInputs reads every -image as the model's input (loadInput).
func loadExperimentInputs(m *zoo.Model, mc card.Card, paths []string) ([]*nn.Tensor, error) {
	var xs []*nn.Tensor
	for _, p := range paths {
		x, err := loadInput(m, mc, p, "")
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
	return xs, nil
}

// trueClasses is each picture's class: -label for all, -labels one each,
// or else the model's top class on the plain picture.
func trueClasses(m *zoo.Model, xs []*nn.Tensor, label int, list string) ([]int, error) {
	if label >= 0 && list != "" {
		return nil, fmt.Errorf("give -label or -labels, not both")
	}
	out := make([]int, len(xs))
	switch {
	case list != "":
		fields := strings.Split(list, ",")
		if len(fields) != len(xs) {
			return nil, fmt.Errorf("-labels has %d classes for %d pictures", len(fields), len(xs))
		}
		for i, f := range fields {
			k, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return nil, fmt.Errorf("-labels: %q is not a class number", f)
			}
			out[i] = k
		}
	case label >= 0:
		for i := range out {
			out[i] = label
		}
	default:
		for i, x := range xs {
			tr, err := m.Net.Forward(x, &nn.Context{}, nil)
			if err != nil {
				return nil, err
			}
			out[i] = nn.ArgMax(tr.Output().Data)
		}
	}
	for _, k := range out {
		if k < 0 || k >= m.Classes {
			return nil, fmt.Errorf("class %d: %s has classes 0 to %d", k, m.Name, m.Classes-1)
		}
	}
	return out, nil
}

// cardClass is class k's name on the card, or "class k" where it has none.
func cardClass(mc card.Card, k int) string {
	if k < len(mc.Classes) {
		return mc.Classes[k]
	}
	return fmt.Sprintf("class %d", k)
}

// experimentLayers is -layers split at commas, or by default the first
// convolution-like top-level layer and the top-level layer before the
// output (the last hidden one): the paper's layers 1 and 7.
func experimentLayers(m *zoo.Model, list string) ([]string, error) {
	if list != "" {
		var out []string
		for _, f := range strings.Split(list, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("-layers %q names no layer", list)
		}
		return out, nil
	}
	sum, err := zoo.Summarize(m)
	if err != nil {
		return nil, err
	}
	return experiment.DefaultLayers(sum), nil
}

// unsafeLayerChars matches what a layer name may not keep in a file name.
var unsafeLayerChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// writeInvarianceCharts writes Figure 5's charts into dir: each layer's
// distance, then the true class's probability, one series per picture.
func writeInvarianceCharts(dir, kind string, layers []string, rs []invarianceImage, stdout io.Writer, say bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(file string, c viz.Chart) error {
		b, err := viz.LineChart(c)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
		if say {
			fmt.Fprintf(stdout, "wrote %s\n", path)
		}
		return nil
	}
	series := func(pick func(r invarianceImage) []float64) []viz.Series {
		var out []viz.Series
		for _, r := range rs {
			out = append(out, viz.Series{Name: fmt.Sprintf("%s (%s)", filepath.Base(r.Image), r.Class), Y: pick(r)})
		}
		return out
	}
	x := rs[0].Amounts
	for l, name := range layers {
		c := viz.Chart{Title: fmt.Sprintf("%s: distance from the untransformed picture (%s)", name, kind),
			XLabel: experiment.AxisLabel(kind), YLabel: "Euclidean distance", X: x,
			Series: series(func(r invarianceImage) []float64 { return r.Layers[l].Distance })}
		if err := write(fmt.Sprintf("invariance-%s-%s.svg", kind, unsafeLayerChars.ReplaceAllString(name, "_")), c); err != nil {
			return err
		}
	}
	c := viz.Chart{Title: fmt.Sprintf("Probability of the true class (%s)", kind),
		XLabel: experiment.AxisLabel(kind), YLabel: "probability", X: x,
		Series: series(func(r invarianceImage) []float64 { return r.Probability })}
	return write(fmt.Sprintf("invariance-%s-probability.svg", kind), c)
}
