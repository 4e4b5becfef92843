package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/web/i18n"
)

// filtersCmd is Zeiler & Fergus' Figure 6 from the command line: a
// convolution's filters, their high-frequency energy, faint and dead ones.
func filtersCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("filters", flag.ContinueOnError)
	name := fs.String("model", "", "model name (default: the checkpoint's)")
	weights := fs.String("weights", "", "checkpoint: convscope safetensors, PyTorch .pth or ONNX; empty: random init")
	initSeed := fs.Uint64("init-seed", 0, "seed of the random initialisation when -weights is empty")
	layer := fs.String("layer", "", "convolution, by its dotted name (default: the first)")
	dataset := fs.String("data", "", "judge dead filters on this dataset's test images (default: none)")
	dataDir := fs.String("data-dir", "", "directory holding the dataset files (default: searched)")
	sample := fs.Int("sample", 1000, "how many test images judge dead filters")
	asJSON := fs.Bool("json", false, "print the layer's filters as JSON")
	out := fs.String("out", "", "write the figure to FILE.png")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*asJSON && *out == "" {
		return fmt.Errorf("give -json, -out FILE.png or both")
	}
	m, mc, err := loadModel(*name, *weights, *initSeed)
	if err != nil {
		return err
	}
	convs := experiment.Convolutions(m.Net)
	if len(convs) == 0 {
		return fmt.Errorf("%s has no convolution", m.Name)
	}
	if *layer == "" {
		*layer = convs[0]
	}
	var images experiment.Images
	if *dataset != "" {
		set, err := data.OpenImages(*dataset, *dataDir, false)
		if err != nil {
			return err
		}
		if !slices.Equal(set.Shape(), m.Input) {
			return fmt.Errorf("%s's images are %v, %s takes %v", *dataset, set.Shape(), m.Name, m.Input)
		}
		set.Mean, set.Std = mc.Pre.Mean, mc.Pre.Std
		if *sample > 0 && *sample < set.Len() {
			idx := make([]int, *sample)
			for i := range idx {
				idx[i] = i
			}
			set = set.Subset(idx)
		}
		images = set
	}
	lf, err := experiment.Filters(ctx, m.Net, *layer, images)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(lf); err != nil {
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
	img, err := experiment.FiltersFigure(i18n.In(i18n.English), fmt.Sprintf("%s (%s), layer %s", mc.Name, source, *layer), lf)
	if err != nil {
		return err
	}
	if err := writePNG(*out, img); err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "wrote %s (%d filters of %s)\n", *out, len(lf.Filters), *layer)
	}
	return nil
}
