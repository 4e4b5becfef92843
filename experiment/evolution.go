package experiment

// Zeiler & Fergus' Figure 4: a feature map's strongest unit over a fixed
// sample of the training set, in snapshots of one network taken during
// training, each projected back to pixels with the deconvnet. The scan and
// the projection are Figure 2's (ScanTopK with k = 1, Scanned.Patches);
// this file only runs them once per snapshot and lays out the grid.

import (
	"context"
	"fmt"
	"image"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/zoo"
)

// Snapshot is a network as it was after an epoch of training (1-based).
type Snapshot struct {
	Epoch int
	Net   *nn.Sequential
}

// Evolution finds, in each snapshot and for each channel of the layer row
// names, the image of sample with the strongest activation anywhere in
// that channel's map (ScanTopK with K 1: ties keep the earlier image), and
// projects that unit to pixels with the deconvnet, cropped with the image
// to its receptive field (Scanned.Patches). The snapshots must share the
// architecture row was summarised from; sample is normalised for them and
// pixels(i) is its image i as a person sees it, (1,C,H,W) in [0,1]. The
// result is indexed [channel][snapshot], in the order given. ctx stops it
// between batches and projections.
func Evolution(ctx context.Context, snapshots []Snapshot, row zoo.LayerInfo, sample Images, channels []int, pixels func(i int) (*nn.Tensor, error)) ([][]Patch, error) {
	if len(snapshots) == 0 || len(channels) == 0 {
		return nil, fmt.Errorf("evolution: %d snapshots and %d channels; want at least one of each", len(snapshots), len(channels))
	}
	out := make([][]Patch, len(channels))
	for i := range out {
		out[i] = make([]Patch, len(snapshots))
	}
	for j, s := range snapshots {
		if s.Net == nil {
			return nil, fmt.Errorf("evolution: snapshot %d (epoch %d) has no network", j, s.Epoch)
		}
		scan, err := ScanTopK(ctx, s.Net, row.Name, sample, ScanOptions{K: 1, ChannelsLast: row.Layout == "hwc"})
		if err != nil {
			return nil, fmt.Errorf("evolution: epoch %d: %w", s.Epoch, err)
		}
		src := Scanned{Net: s.Net, Row: row, Set: sample, Pixels: pixels}
		for i, c := range channels {
			if c < 0 || c >= len(scan.Channels) {
				return nil, fmt.Errorf("evolution: channel %d of %s, which has channels 0..%d", c, row.Name, len(scan.Channels)-1)
			}
			ps, err := src.Patches(ctx, scan.Channels[c])
			if err != nil {
				return nil, fmt.Errorf("evolution: epoch %d, channel %d: %w", s.Epoch, c, err)
			}
			out[i][j] = ps[0]
		}
	}
	return out, nil
}

// EvolutionFigure draws Figure 4: a row per channel, a column per snapshot
// headed "epoch N", each cell the deconvnet projection of the channel's
// strongest unit (left; grey is zero, each with its own symmetric scale)
// beside the image patch under its receptive field (right; the paper shows
// the projections only, but here the image behind a projection changes
// from one snapshot to the next, and the patch says which it is), under a
// caption and a line saying so (none when caption is empty). patches is
// Evolution's, [channel][snapshot].
//
// The grid: side is the largest receptive field (in pixels) of any patch,
// zoom = max(1, ⌈64/side⌉), cell = side·zoom + 2; a column is
// max(2·cell + 8, width of its heading) + 16 wide, a row cell + 6 tall;
// the channel labels take the widest "channel C" + 12. The picture is
// 8 + labels + columns wide and 8 (+ 2 lines of caption) + a line of
// headings + 4 + rows + 2 tall.
func EvolutionFigure(say Say, caption string, epochs []int, channels []int, patches [][]Patch) (*image.RGBA, error) {
	if len(channels) == 0 || len(epochs) == 0 || len(channels) != len(patches) {
		return nil, fmt.Errorf("figure: %d channels, %d epochs, %d patch rows", len(channels), len(epochs), len(patches))
	}
	side := 1
	for i, row := range patches {
		if len(row) != len(epochs) {
			return nil, fmt.Errorf("figure: channel %d has %d patches for %d epochs", channels[i], len(row), len(epochs))
		}
		for _, p := range row {
			if p.Projection == nil || p.Pixels == nil {
				return nil, fmt.Errorf("figure: channel %d has an empty patch", channels[i])
			}
			side = max(side, p.Field.Dx(), p.Field.Dy())
		}
	}
	zoom := max(1, (64+side-1)/side)
	cell := side*zoom + 2
	colW := 2*cell + 8
	for _, e := range epochs {
		colW = max(colW, viz.TextWidth(say("figure.epoch", e)))
	}
	colW += 16
	labelW := 0
	for _, c := range channels {
		labelW = max(labelW, viz.TextWidth(say("figure.channel", c)))
	}
	labelW += 12
	rowH := cell + 6
	top, lines := 8, []string{}
	if caption != "" { // a figure of its own; a page's figures have captions in HTML
		lines = []string{caption, say("figure.evolution.about")}
		top += 2 * viz.LineHeight
	}
	width := 8 + labelW + len(epochs)*colW
	for _, l := range lines {
		width = max(width, viz.TextWidth(l)+16)
	}
	img := viz.Canvas(width, top+viz.LineHeight+4+len(channels)*rowH+2)
	for i, l := range lines {
		viz.Text(img, 8, 6+i*viz.LineHeight, l, viz.Ink)
	}
	for j, e := range epochs {
		viz.Text(img, 8+labelW+j*colW, top, say("figure.epoch", e), viz.Ink)
	}
	y0 := top + viz.LineHeight + 4
	for i, c := range channels {
		y := y0 + i*rowH
		viz.Text(img, 8, y+(cell-2)/2-viz.LineHeight/2, say("figure.channel", c), viz.Ink)
		for j, p := range patches[i] {
			at := image.Pt(8+labelW+j*colW, y)
			right := at.Add(image.Pt(cell+8, 0))
			if err := p.draw(img, at, right, cell, zoom); err != nil {
				return nil, err
			}
		}
	}
	return img, nil
}
