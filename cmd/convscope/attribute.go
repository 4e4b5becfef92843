package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // decoders for -image
	_ "image/png"
	"io"
	"os"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/deconv"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/zoo"
)

func attribute(_ context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("attribute", flag.ContinueOnError)
	method := fs.String("method", "deconvnet", "deconvnet, gradient or guided")
	name := fs.String("model", "", "model name (default: the checkpoint's)")
	weights := fs.String("weights", "", "checkpoint (safetensors)")
	imagePath := fs.String("image", "", "input picture (PNG or JPEG)")
	layer := fs.String("layer", "", "layer whose unit to project (deconvnet, guided)")
	channel := fs.Int("channel", 0, "channel of -layer; its strongest unit is projected")
	class := fs.Int("class", -1, "class whose logit to attribute (gradient; default: the predicted one)")
	out := fs.String("out", "", "output PNG")
	scale := fs.Int("scale", 8, "enlargement of the output picture")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rule, err := nn.ParseRule(*method)
	if err != nil {
		return err
	}
	if *out == "" || *imagePath == "" {
		return fmt.Errorf("-image FILE and -out FILE.png are required")
	}
	m, meta, err := loadCheckpoint(*weights, *name)
	if err != nil {
		return err
	}
	pre, err := zoo.PreprocessOf(meta, m.Input[0])
	if err != nil {
		return err
	}
	f, err := os.Open(*imagePath)
	if err != nil {
		return err
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", *imagePath, err)
	}
	x := data.ToTensor(img, m.Input[0], m.Input[1], m.Input[2], pre.Mean, pre.Std)
	tr, err := m.Net.Forward(x, &nn.Context{}, nil)
	if err != nil {
		return err
	}
	step, seed, err := seedSignal(tr, rule, *layer, *channel, *class)
	if err != nil {
		return err
	}
	var att *nn.Tensor
	if rule == nn.Deconvnet {
		att, err = deconv.Walk(tr, step, seed)
	} else {
		att, err = m.Net.Backward(tr, step, seed, rule, nil)
	}
	if err != nil {
		return err
	}
	pic, peak, err := viz.Signed(att)
	if err != nil {
		return err
	}
	big := viz.Upscale(pic, *scale)
	if *layer != "" {
		s, err := zoo.Summarize(m)
		if err != nil {
			return err
		}
		u, _ := deconv.Strongest(tr, step, *channel)
		box := s.Layers[step].Box(u.Y, u.X, m.Input[1], m.Input[2])
		viz.DrawBox(big, image.Rect(box.Min.X**scale, box.Min.Y**scale, box.Max.X**scale, box.Max.Y**scale), color.RGBA{255, 64, 64, 255})
	}
	b, err := viz.PNG(big)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s, max |value| %.4g)\n", *out, rule, peak)
	return nil
}

// seedSignal picks where the backward walk starts: the strongest unit of a
// layer's channel (its own activation, all else zero), or 1 at a class logit.
func seedSignal(tr *nn.Trace, rule nn.Rule, layer string, channel, class int) (int, *nn.Tensor, error) {
	if layer != "" {
		step := tr.Find(layer)
		if step < 0 {
			return 0, nil, fmt.Errorf("no layer %q in this model", layer)
		}
		u, err := deconv.Strongest(tr, step, channel)
		if err != nil {
			return 0, nil, err
		}
		seed, err := deconv.Seed(tr, step, u)
		return step, seed, err
	}
	logits := tr.Output()
	if class < 0 {
		class = nn.ArgMax(logits.Data)
	}
	if class >= logits.Len() {
		return 0, nil, fmt.Errorf("class %d of %d", class, logits.Len())
	}
	seed := nn.New(logits.Shape...)
	seed.Data[class] = 1
	return len(tr.Steps) - 1, seed, nil
}
