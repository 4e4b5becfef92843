package main

// convscope occlusion: Zeiler & Fergus' Figure 7 for one picture, as JSON
// or as the paper's five panels (PNG).

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/zoo"
)

// occlusionJSON is occlusion's JSON: the model, the input file, the
// label's name, and experiment.OcclusionResult's fields.
type occlusionJSON struct {
	Model string `json:"model"`
	Input string `json:"input"`
	Class string `json:"class"`
	*experiment.OcclusionResult
}

// occlusion is Zeiler & Fergus' Figure 7 from the command line: one
// picture, one layer's strongest (or chosen) feature map.
func occlusion(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("occlusion", flag.ContinueOnError)
	name := fs.String("model", "", "model name (default: the checkpoint's)")
	weights := fs.String("weights", "", "checkpoint: convscope safetensors, PyTorch .pth or ONNX; empty: random init")
	initSeed := fs.Uint64("init-seed", 0, "seed of the random initialisation when -weights is empty")
	imagePath := fs.String("image", "", "input picture (PNG, JPEG, GIF)")
	tensorPath := fs.String("tensor", "", "input tensor \"input\" (1,C,H,W), already normalised, in a safetensors file")
	layer := fs.String("layer", "", "the feature map's layer, by its dotted name (convscope summary -depth 9 lists them)")
	channel := fs.Int("channel", -1, "feature map (default: the one holding the layer's largest activation)")
	label := fs.Int("label", -1, "true class (default: the model's top class on the picture)")
	window := fs.Int("window", 0, "side of the grey square in input pixels (default: a seventh of the height)")
	stride := fs.Int("stride", 0, "step of the square in input pixels (default: half the window)")
	batch := fs.Int("batch", 16, "occluded copies per forward pass")
	asJSON := fs.Bool("json", false, "print the panels' numbers as JSON")
	out := fs.String("out", "", "write the figure to FILE.png")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *layer == "" {
		return fmt.Errorf("-layer NAME is required (convscope summary -depth 9 lists them)")
	}
	if !*asJSON && *out == "" {
		return fmt.Errorf("give -json, -out FILE.png or both")
	}
	m, mc, err := loadModel(*name, *weights, *initSeed)
	if err != nil {
		return err
	}
	x, err := loadInput(m, mc, *imagePath, *tensorPath)
	if err != nil {
		return err
	}
	if x.Shape[0] != 1 {
		return fmt.Errorf("%s holds %d inputs; occlusion runs one", *tensorPath, x.Shape[0])
	}
	channelsLast, err := layerChannelsLast(m, *layer)
	if err != nil {
		return err
	}
	r, err := experiment.Occlusion(ctx, m.Net, x, experiment.OcclusionOptions{Layer: *layer, Channel: *channel,
		Label: *label, Window: *window, Stride: *stride, Batch: *batch, ChannelsLast: channelsLast,
		Progress: newProgress(os.Stderr).counter("occlusion")})
	if err != nil {
		return err
	}
	input := *imagePath
	if input == "" {
		input = *tensorPath
	}
	if *asJSON {
		j := occlusionJSON{Model: m.Name, Input: input, Class: cardClass(mc, r.Label), OcclusionResult: r}
		if err := json.NewEncoder(stdout).Encode(j); err != nil {
			return err
		}
	}
	if *out == "" {
		return nil
	}
	source := *weights
	if source == "" {
		source = fmt.Sprintf("random initialisation, seed %d", *initSeed)
	}
	caption := fmt.Sprintf("%s (%s), %s, layer %s, channel %d at (%d,%d), occlusion", mc.Name, source,
		filepath.Base(input), r.Layer, r.Channel, r.Unit.Y, r.Unit.X)
	img, err := experiment.OcclusionFigure(i18n.In(i18n.English), caption, mc.Denormalize(x), r, mc.Classes)
	if err != nil {
		return err
	}
	if err := writePNG(*out, img); err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "wrote %s (%dx%d positions, %s channel %d)\n", *out, r.Rows, r.Cols, r.Layer, r.Channel)
	}
	return nil
}

// layerChannelsLast reports whether the layer called name keeps its
// channels last (zoo.LayerInfo Layout "hwc"); a name the summary does not
// list is left to experiment.Occlusion to refuse.
func layerChannelsLast(m *zoo.Model, name string) (bool, error) {
	sum, err := zoo.Summarize(m)
	if err != nil {
		return false, err
	}
	row, _, ok := sum.Row(name)
	return ok && row.Layout == "hwc", nil
}
