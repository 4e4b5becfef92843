package main

import (
	"fmt"
	"image"
	_ "image/gif" // decoders for -image
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/zoo"
)

// loadModel builds the model a command works on and its card
// (card.Load: a convscope checkpoint, a PyTorch state_dict for -model, or
// random initialisation from seed when weights is empty).
func loadModel(name, weights string, seed uint64) (*zoo.Model, card.Card, error) {
	return card.Load(name, weights, seed)
}

// maxImageSide bounds the pictures -image reads, checked from their header
// before they are decoded (8192x8192 RGBA is 256 MiB).
const maxImageSide = 8192

// loadInput reads the model's input: a picture, preprocessed by the
// model's card as the page does (card.Card.Prepare), or a tensor named
// "input" from a safetensors file, used as it is.
func loadInput(m *zoo.Model, c card.Card, imagePath, tensorPath string) (*nn.Tensor, error) {
	switch {
	case tensorPath != "":
		ts, _, err := nn.LoadSafetensors(tensorPath)
		if err != nil {
			return nil, err
		}
		x, ok := ts["input"]
		if !ok {
			return nil, fmt.Errorf("%s has no tensor named \"input\"", tensorPath)
		}
		if len(x.Shape) != 4 || !nn.SameShape(x.Shape[1:], m.Input) || x.Shape[0] < 1 {
			return nil, fmt.Errorf("%s: input %s, %s takes (N,%d,%d,%d) with N at least 1", tensorPath, nn.ShapeString(x.Shape), m.Name, m.Input[0], m.Input[1], m.Input[2])
		}
		return x, nil
	case imagePath != "":
		f, err := os.Open(imagePath)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cfg, _, err := image.DecodeConfig(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", imagePath, err)
		}
		if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxImageSide || cfg.Height > maxImageSide {
			return nil, fmt.Errorf("%s: a %dx%d picture; convscope reads pictures up to %dx%d", imagePath, cfg.Width, cfg.Height, maxImageSide, maxImageSide)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		img, _, err := image.Decode(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", imagePath, err)
		}
		_, x := c.Prepare(card.Picture(img))
		return x, nil
	}
	return nil, fmt.Errorf("-image FILE or -tensor FILE.safetensors is required")
}

// writePNG writes img to path as PNG.
func writePNG(path string, img image.Image) error {
	b, err := viz.PNG(img)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
