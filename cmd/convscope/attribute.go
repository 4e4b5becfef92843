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

func attribute(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("attribute", flag.ContinueOnError)
	method := fs.String("method", "deconvnet", strings.Join(deconv.MethodNames(), ", "))
	name := fs.String("model", "", "model name (default: the checkpoint's)")
	weights := fs.String("weights", "", "convscope checkpoint or PyTorch state_dict; empty: random init")
	initSeed := fs.Uint64("init-seed", 0, "seed of the random initialisation when -weights is empty")
	imagePath := fs.String("image", "", "input picture (PNG, JPEG, GIF)")
	tensorPath := fs.String("tensor", "", "input tensor: safetensors with an NCHW tensor named \"input\" (sample 0 is used)")
	layer := fs.String("layer", "", "layer whose unit to explain (gradcam: the layer whose maps are weighted)")
	channel := fs.Int("channel", 0, "channel of -layer's unit")
	y := fs.Int("y", -1, "row of -layer's unit (with -x; default: the channel's strongest unit)")
	x := fs.Int("x", -1, "column of -layer's unit (with -y)")
	class := fs.Int("class", -1, "class to explain when no -layer is given, and gradcam's class (default: the predicted one)")
	steps := fs.Int("steps", 32, "ig: number of steps M")
	samples := fs.Int("samples", 25, "smoothgrad: number of noisy copies")
	noise := fs.Float64("noise", 0.15, "smoothgrad: noise standard deviation as a fraction of the input's range")
	seed := fs.Uint64("seed", 0, "smoothgrad: seed of the noise")
	window := fs.Int("window", 0, "occlusion: side of the grey square in input pixels (default: a seventh of the height)")
	stride := fs.Int("stride", 0, "occlusion: step of the square (default: half the window)")
	out := fs.String("out", "", "output: FILE.png (a picture) or FILE.safetensors (the raw map, tensor \"attribution\")")
	scale := fs.Int("scale", 8, "enlargement of the PNG picture (1 to 64)")
	captioned := fs.Bool("caption", false, "the PNG as the explorer's download: the input beside the map, under a caption naming model, weights, input, target and method")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *scale < 1 || *scale > maxScale {
		return fmt.Errorf("-scale %d: want 1 to %d", *scale, maxScale)
	}
	if _, err := deconv.Lookup(*method); err != nil {
		return fmt.Errorf("-method: %w", err)
	}
	if *out == "" {
		return fmt.Errorf("-out FILE.png or FILE.safetensors is required")
	}
	if (*y < 0) != (*x < 0) {
		return fmt.Errorf("give both -y and -x, or neither for the strongest unit")
	}
	m, mc, err := loadModel(*name, *weights, *initSeed)
	if err != nil {
		return err
	}
	in, err := loadInput(m, mc, *imagePath, *tensorPath)
	if err != nil {
		return err
	}
	if in.Shape[0] > 1 {
		in = in.Sample(0)
	}
	sum, err := zoo.Summarize(m)
	if err != nil {
		return err
	}
	goal := deconv.Goal{Layer: *layer, Channel: *channel, Class: *class}
	if *y >= 0 {
		goal.At = &deconv.Pos{Y: *y, X: *x}
	}
	model := deconv.Model{Net: m.Net, ChannelsLast: func(name string) bool {
		row, _, _ := sum.Row(name)
		return row.Layout == "hwc"
	}}
	opt := deconv.Options{Steps: *steps, Samples: *samples, Noise: *noise, Seed: *seed, Window: *window, Stride: *stride}
	r, err := deconv.Explain(ctx, model, in, nil, *method, goal, opt, nil)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%s of class %d", r.Method, r.Class)
	if r.Class < 0 {
		what = fmt.Sprintf("%s of %s channel %d at (%d,%d)", r.Method, r.Layer, r.Unit.Channel, r.Unit.Y, r.Unit.X)
	} else if r.Layer != "" {
		what += " at " + r.Layer
	}
	if strings.EqualFold(filepath.Ext(*out), ".safetensors") {
		meta := map[string]string{"method": r.Method, "model": m.Name, "layer": r.Layer, "class": fmt.Sprint(r.Class),
			"unit": fmt.Sprintf("%d,%d,%d", r.Unit.Channel, r.Unit.Y, r.Unit.X)}
		if err := nn.SaveSafetensors(*out, map[string]*nn.Tensor{"attribution": r.Map}, meta); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%s)\n", *out, what)
		return nil
	}
	if max(m.Input[1], m.Input[2])**scale > maxImageSide {
		return fmt.Errorf("-scale %d makes a %dx%d picture wider than %d pixels", *scale, m.Input[2]**scale, m.Input[1]**scale, maxImageSide)
	}
	var pic *image.RGBA
	var scaleNote string
	if meth, _ := deconv.Lookup(r.Method); meth.Heat() {
		var lo, hi float32
		pic, lo, hi, err = viz.Heat(r.Map, in, m.Input[2]**scale, m.Input[1]**scale)
		if err != nil {
			return err
		}
		scaleNote = fmt.Sprintf("heat from %.4g to %.4g", lo, hi)
	} else {
		small, peak, err := viz.Signed(r.Map)
		if err != nil {
			return err
		}
		pic = viz.Upscale(small, *scale)
		scaleNote = fmt.Sprintf("max |value| %.4g", peak)
	}
	if r.Class < 0 {
		row, _, ok := sum.Row(r.Layer)
		if !ok {
			return fmt.Errorf("no summary row for %s", r.Layer)
		}
		box := row.Box(r.Unit.Y, r.Unit.X, m.Input[1], m.Input[2])
		viz.DrawBox(pic, image.Rect(box.Min.X**scale, box.Min.Y**scale, box.Max.X**scale, box.Max.Y**scale), color.RGBA{255, 64, 64, 255})
	}
	if *captioned {
		source := *weights
		if source == "" {
			source = fmt.Sprintf("random initialisation, seed %d", *initSeed)
		}
		input := filepath.Base(*imagePath)
		if *imagePath == "" {
			input = filepath.Base(*tensorPath)
		}
		if pic, err = captionedFigure(mc.Denormalize(in), pic, *scale,
			fmt.Sprintf("convscope: %s (%s), %s, %s", mc.Name, source, input, what), scaleNote); err != nil {
			return err
		}
	}
	b, err := viz.PNG(pic)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s, %s)\n", *out, what, scaleNote)
	return nil
}

// captionedFigure puts the input (pixels in [0,1], enlarged scale times)
// beside the attribution picture, under lines of caption.
func captionedFigure(pixels *nn.Tensor, attribution *image.RGBA, scale int, lines ...string) (*image.RGBA, error) {
	in, err := viz.Pixels(pixels)
	if err != nil {
		return nil, err
	}
	in = viz.Upscale(in, scale)
	const pad = 8
	b := attribution.Bounds()
	width := 3*pad + in.Bounds().Dx() + b.Dx()
	for _, l := range lines {
		width = max(width, viz.TextWidth(l)+2*pad)
	}
	top := pad + len(lines)*viz.LineHeight + pad
	out := viz.Canvas(width, top+max(in.Bounds().Dy(), b.Dy())+pad)
	for i, l := range lines {
		viz.Text(out, pad, pad+i*viz.LineHeight, l, viz.Ink)
	}
	viz.Paste(out, in, image.Pt(pad, top))
	viz.Paste(out, attribution, image.Pt(2*pad+in.Bounds().Dx(), top))
	return out, nil
}
