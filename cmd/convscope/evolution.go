package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/zoo"
)

// evolution is Zeiler & Fergus' Figure 4 from the command line: the
// snapshots convscope train -snapshots kept, each channel's strongest unit
// over a fixed sample of the training set in each, projected to pixels.
func evolution(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("evolution", flag.ContinueOnError)
	dir := fs.String("snapshots", "", "directory of epoch-NNN.safetensors snapshots (convscope train -snapshots DIR)")
	layer := fs.String("layer", "", "layer to follow, by its dotted name (convscope summary -depth 9 lists them)")
	channelList := fs.String("channels", "", "channels, comma-separated (default: the first 8)")
	dataset := fs.String("data", "fashion-mnist", "dataset: "+strings.Join(data.ImageDatasets(), ", "))
	dataDir := fs.String("data-dir", "", "directory holding the dataset files (default: searched)")
	sampleN := fs.Int("sample", 2000, "the sample: the first N training images")
	out := fs.String("out", "", "write the figure to FILE.png")
	asJSON := fs.Bool("json", false, "print, per channel and snapshot, the strongest image, its unit and activation as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *layer == "" {
		return fmt.Errorf("-snapshots DIR and -layer NAME are required")
	}
	if !*asJSON && *out == "" {
		return fmt.Errorf("give -json, -out FILE.png or both")
	}
	if *sampleN < 1 {
		return fmt.Errorf("-sample %d: want at least one image", *sampleN)
	}
	snaps, first, fc, err := experiment.ReadSnapshots(*dir)
	if err != nil {
		return err
	}
	epochs := make([]int, len(snaps))
	for i, sn := range snaps {
		epochs[i] = sn.Epoch
	}
	sum, err := zoo.Summarize(first)
	if err != nil {
		return err
	}
	row, _, ok := sum.Row(*layer)
	if !ok || len(row.Maps) == 0 {
		return fmt.Errorf("no layer %q with channels in %s (convscope summary -model %s -depth 9 lists them)", *layer, first.Name, first.Name)
	}
	channels, err := pickChannels(*channelList, row.Maps[0])
	if err != nil {
		return err
	}
	if *channelList == "" {
		channels = channels[:min(8, len(channels))]
	}
	set, err := data.OpenImages(*dataset, *dataDir, true)
	if err != nil {
		return err
	}
	if !slices.Equal(set.Shape(), first.Input) {
		return fmt.Errorf("%s's images are %v, %s takes %v", *dataset, set.Shape(), first.Name, first.Input)
	}
	set.Mean, set.Std = fc.Pre.Mean, fc.Pre.Std
	if *sampleN < set.Len() {
		idx := make([]int, *sampleN)
		for i := range idx {
			idx[i] = i
		}
		set = set.Subset(idx)
	}
	start := time.Now()
	patches, err := experiment.Evolution(ctx, snaps, row, set, channels, experiment.SetPixels(set))
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "scanned %d images in %d snapshots and projected %d units in %.2f s\n",
		set.Len(), len(snaps), len(snaps)*len(channels), time.Since(start).Seconds())
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(evolutionReport(*layer, set.Len(), epochs, channels, patches)); err != nil {
			return err
		}
	}
	if *out == "" {
		return nil
	}
	caption := fmt.Sprintf("%s snapshots in %s, %s training set (first %d images), layer %s, deconvnet",
		first.Name, *dir, *dataset, set.Len(), *layer)
	img, err := experiment.EvolutionFigure(i18n.In(i18n.English), caption, epochs, channels, patches)
	if err != nil {
		return err
	}
	if err := writePNG(*out, img); err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "wrote %s (%d channels of %s in %d snapshots, epochs %v)\n", *out, len(channels), *layer, len(snaps), epochs)
	}
	return nil
}

// evolutionCell is one channel's strongest unit in one snapshot.
type evolutionCell struct {
	Epoch int `json:"epoch"`
	experiment.Hit
}

// evolutionRow is one channel across the snapshots.
type evolutionRow struct {
	Channel   int             `json:"channel"`
	Snapshots []evolutionCell `json:"snapshots"`
}

// evolutionJSON is -json's output.
type evolutionJSON struct {
	Layer    string         `json:"layer"`
	Sample   int            `json:"sample"`
	Epochs   []int          `json:"epochs"`
	Channels []evolutionRow `json:"channels"`
}

func evolutionReport(layer string, sample int, epochs, channels []int, patches [][]experiment.Patch) evolutionJSON {
	r := evolutionJSON{Layer: layer, Sample: sample, Epochs: epochs, Channels: make([]evolutionRow, len(channels))}
	for i, c := range channels {
		r.Channels[i] = evolutionRow{Channel: c, Snapshots: make([]evolutionCell, len(epochs))}
		for j, e := range epochs {
			r.Channels[i].Snapshots[j] = evolutionCell{Epoch: e, Hit: patches[i][j].Hit}
		}
	}
	return r
}
