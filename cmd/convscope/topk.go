package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/zoo"
)

// topk is Zeiler & Fergus' Figure 2 from the command line: the scan of a
// dataset for each channel's strongest images, as JSON, and the figure.
func topk(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("topk", flag.ContinueOnError)
	name := fs.String("model", "", "model name (default: the checkpoint's)")
	weights := fs.String("weights", "", "checkpoint: convscope safetensors, PyTorch .pth or ONNX")
	dataset := fs.String("data", "fashion-mnist", "dataset: "+strings.Join(data.ImageDatasets(), ", "))
	dataDir := fs.String("data-dir", "", "directory holding the dataset files (default: searched)")
	split := fs.String("split", "test", "test or train")
	layer := fs.String("layer", "", "layer to scan, by its dotted name (convscope summary -depth 9 lists them)")
	k := fs.Int("k", 9, "images kept per channel")
	limit := fs.Int("limit", 0, "scan only the first N images (0: all)")
	batch := fs.Int("batch", 128, "images per forward pass")
	asJSON := fs.Bool("json", false, "print the scan as JSON")
	out := fs.String("out", "", "write the figure to FILE.png")
	channelList := fs.String("channels", "", "channels in the figure, comma-separated (default: the first 16)")
	cacheDir := fs.String("cache", "", "cache directory (default ~/.cache/convscope/topk; \"off\" to scan again)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *weights == "" || *layer == "" {
		return fmt.Errorf("-weights FILE and -layer NAME are required")
	}
	if *split != "test" && *split != "train" {
		return fmt.Errorf("-split %q: want test or train", *split)
	}
	if !*asJSON && *out == "" {
		return fmt.Errorf("give -json, -out FILE.png or both")
	}
	m, mc, err := loadModel(*name, *weights, 0)
	if err != nil {
		return err
	}
	sum, err := zoo.Summarize(m)
	if err != nil {
		return err
	}
	row, _, ok := sum.Row(*layer)
	if !ok {
		return fmt.Errorf("no layer %q in %s (convscope summary -model %s -depth 9 lists them)", *layer, m.Name, m.Name)
	}
	set, err := data.OpenImages(*dataset, *dataDir, *split == "train")
	if err != nil {
		return err
	}
	if !slices.Equal(set.Shape(), m.Input) {
		return fmt.Errorf("%s's images are %v, %s takes %v", *dataset, set.Shape(), m.Name, m.Input)
	}
	set.Mean, set.Std = mc.Pre.Mean, mc.Pre.Std
	if *limit > 0 && *limit < set.Len() {
		idx := make([]int, *limit)
		for i := range idx {
			idx[i] = i
		}
		set = set.Subset(idx)
	}
	key := experiment.ScanKey{Weights: experiment.WeightsHash(m.Net), Dataset: *dataset, Split: *split, Layer: *layer, K: *k, Images: set.Len()}
	dir := *cacheDir
	if dir == "" {
		if dir, err = data.CacheDir("topk"); err != nil {
			return err
		}
	}
	start := time.Now()
	scan, cached := (*experiment.TopK)(nil), false
	if dir != "off" {
		scan, cached = experiment.LoadScan(dir, key)
	}
	if !cached {
		progress := newProgress(os.Stderr).counter("scan " + *layer)
		scan, err = experiment.ScanTopK(ctx, m.Net, *layer, set, experiment.ScanOptions{K: *k, Batch: *batch,
			ChannelsLast: row.Layout == "hwc", Progress: progress})
		if err != nil {
			return err
		}
		if dir != "off" {
			if err := experiment.SaveScan(dir, key, scan); err != nil {
				return err
			}
		}
	}
	how := fmt.Sprintf("scanned %d images in %.2f s", scan.Images, time.Since(start).Seconds())
	if cached {
		how = fmt.Sprintf("read the scan of %d images from the cache in %.3f s", scan.Images, time.Since(start).Seconds())
	}
	fmt.Fprintln(os.Stderr, how)
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(scan); err != nil {
			return err
		}
	}
	if *out == "" {
		return nil
	}
	channels, err := pickChannels(*channelList, len(scan.Channels))
	if err != nil {
		return err
	}
	src := experiment.Scanned{Net: m.Net, Row: row, Set: set, Pixels: experiment.SetPixels(set)}
	patches := make([][]experiment.Patch, len(channels))
	for i, c := range channels {
		if patches[i], err = src.Patches(ctx, scan.Channels[c]); err != nil {
			return err
		}
	}
	caption := fmt.Sprintf("%s (%s), %s %s set (%d images), layer %s, deconvnet", mc.Name, *weights, *dataset, *split, scan.Images, *layer)
	img, err := experiment.TopKFigure(i18n.In(i18n.English), caption, channels, patches)
	if err != nil {
		return err
	}
	if err := writePNG(*out, img); err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "wrote %s (%d channels of %s)\n", *out, len(channels), *layer)
	}
	return nil
}

// pickChannels parses -channels, or picks the first 16 of n.
func pickChannels(list string, n int) ([]int, error) {
	if list == "" {
		out := make([]int, min(n, 16))
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	var out []int
	for _, f := range strings.Split(list, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 0 || c >= n {
			return nil, fmt.Errorf("-channels: %q is not a channel of 0..%d", f, n-1)
		}
		out = append(out, c)
	}
	if len(out) > 64 {
		return nil, fmt.Errorf("-channels: %d channels; a figure holds at most 64", len(out))
	}
	return out, nil
}
