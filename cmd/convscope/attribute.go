package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/convscope/convscope/deconv"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/zoo"
)

// maxScale bounds attribute's -scale.
const maxScale = 64

func attribute(_ context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("attribute", flag.ContinueOnError)
	method := fs.String("method", "deconvnet", "deconvnet, gradient or guided")
	name := fs.String("model", "", "model name (default: the checkpoint's)")
	weights := fs.String("weights", "", "convscope checkpoint or PyTorch state_dict; empty: random init")
	seed := fs.Uint64("seed", 0, "seed of the random initialisation when -weights is empty")
	imagePath := fs.String("image", "", "input picture (PNG, JPEG, GIF)")
	tensorPath := fs.String("tensor", "", "input tensor: safetensors with an NCHW tensor named \"input\" (sample 0 is used)")
	layer := fs.String("layer", "", "layer whose unit to project (its strongest unit of -channel)")
	channel := fs.Int("channel", 0, "channel of -layer")
	class := fs.Int("class", -1, "class whose logit to attribute when no -layer is given (default: the predicted one)")
	out := fs.String("out", "", "output: FILE.png (a picture) or FILE.safetensors (the raw map, tensor \"attribution\")")
	scale := fs.Int("scale", 8, "enlargement of the PNG picture (1 to 64)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *scale < 1 || *scale > maxScale {
		return fmt.Errorf("-scale %d: want 1 to %d", *scale, maxScale)
	}
	rule, err := nn.ParseRule(*method)
	if err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("-out FILE.png or FILE.safetensors is required")
	}
	m, meta, err := loadModel(*name, *weights, *seed)
	if err != nil {
		return err
	}
	x, err := loadInput(m, meta, *imagePath, *tensorPath)
	if err != nil {
		return err
	}
	if x.Shape[0] > 1 {
		x = x.Sample(0)
	}
	tr, err := m.Net.Forward(x, &nn.Context{}, nil)
	if err != nil {
		return err
	}
	sum, err := zoo.Summarize(m)
	if err != nil {
		return err
	}
	target, unit, seedSig, err := seedSignal(tr, sum, *layer, *channel, *class)
	if err != nil {
		return err
	}
	var att *nn.Tensor
	if *layer != "" || rule == nn.Deconvnet {
		att, err = deconv.Attribute(m.Net, tr, target, unit, rule)
	} else { // a class logit's gradient, seeded with 1
		att, err = m.Net.BackwardFromPath(tr, target.Path, seedSig, rule, nil)
	}
	if err != nil {
		return err
	}
	if strings.EqualFold(filepath.Ext(*out), ".safetensors") {
		meta := map[string]string{"method": rule.String(), "model": m.Name, "layer": target.Name}
		if err := nn.SaveSafetensors(*out, map[string]*nn.Tensor{"attribution": att}, meta); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%s from %s)\n", *out, rule, target.Name)
		return nil
	}
	pic, peak, err := viz.Signed(att)
	if err != nil {
		return err
	}
	if b := pic.Bounds(); max(b.Dx(), b.Dy())**scale > maxImageSide {
		return fmt.Errorf("-scale %d makes a %dx%d map wider than %d pixels", *scale, b.Dx(), b.Dy(), maxImageSide)
	}
	big := viz.Upscale(pic, *scale)
	if *layer != "" {
		row, _, ok := sum.Row(target.Name)
		if !ok {
			return fmt.Errorf("no summary row for %s", target.Name)
		}
		box := row.Box(unit.Y, unit.X, m.Input[1], m.Input[2])
		viz.DrawBox(big, image.Rect(box.Min.X**scale, box.Min.Y**scale, box.Max.X**scale, box.Max.Y**scale), color.RGBA{255, 64, 64, 255})
	}
	b, err := viz.PNG(big)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s from %s, max |value| %.4g)\n", *out, rule, target.Name, peak)
	return nil
}

// seedSignal picks where the backward walk starts: the strongest unit of a
// layer's channel (its own activation, all else zero, as Zeiler & Fergus),
// the layer found by name anywhere in the network, or 1 at a class logit.
// The summary says which layers are channels-last (inside ConvNeXt blocks).
func seedSignal(tr *nn.Trace, sum *zoo.Summary, layer string, channel, class int) (deconv.Target, deconv.Unit, *nn.Tensor, error) {
	if layer != "" {
		t, err := deconv.Find(tr, layer)
		if err != nil {
			return t, deconv.Unit{}, nil, err
		}
		row, _, _ := sum.Row(layer)
		t.ChannelsLast = row.Layout == "hwc"
		u, err := deconv.StrongestAt(t, channel)
		if err != nil {
			return t, u, nil, err
		}
		s, err := deconv.SeedAt(t, u)
		return t, u, s, err
	}
	logits := tr.Output()
	if class < 0 {
		class = nn.ArgMax(logits.Data)
	}
	if class >= logits.Len() {
		return deconv.Target{}, deconv.Unit{}, nil, fmt.Errorf("class %d of %d", class, logits.Len())
	}
	s := nn.New(logits.Shape...)
	s.Data[class] = 1
	last := len(tr.Steps) - 1
	return deconv.Target{Name: tr.Steps[last].Layer.Name(), Path: []int{last}, Step: &tr.Steps[last]}, deconv.Unit{Channel: class}, s, nil
}
