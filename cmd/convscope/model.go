package main

import (
	"fmt"
	"image"
	_ "image/gif" // decoders for -image
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// loadModel builds the model a command works on: from a convscope
// checkpoint (safetensors with its model in the metadata), from a PyTorch
// state_dict (.pth or plain .safetensors) for -model, or with random
// PyTorch-style initialisation from seed when weights is empty.
func loadModel(name, weights string, seed uint64) (*zoo.Model, map[string]string, error) {
	if weights == "" {
		if name == "" {
			return nil, nil, fmt.Errorf("-model NAME or -weights FILE is required")
		}
		m, err := zoo.Build(name, nil, 0, seed)
		return m, map[string]string{}, err
	}
	if strings.EqualFold(filepath.Ext(weights), ".safetensors") {
		b, err := os.ReadFile(weights)
		if err != nil {
			return nil, nil, err
		}
		meta, err := nn.SafetensorsMetadata(b)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", weights, err)
		}
		if meta[zoo.MetaModel] != "" {
			m, meta, err := zoo.DecodeCheckpoint(b, name)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", weights, err)
			}
			return m, meta, nil
		}
	}
	if name == "" {
		return nil, nil, fmt.Errorf("%s names no model: pass -model", weights)
	}
	m, err := zoo.Build(name, nil, 0, seed)
	if err != nil {
		return nil, nil, err
	}
	return m, map[string]string{}, zoo.LoadWeights(m, weights)
}

// maxImageSide bounds the pictures -image reads, checked from their header
// before they are decoded (8192x8192 RGBA is 256 MiB).
const maxImageSide = 8192

// loadInput reads the model's input: a picture, preprocessed as the model
// was trained (a checkpoint's mean and std; ImageNet's Resize 256 +
// CenterCrop 224 + normalisation for 3x224x224 models without one), or a
// tensor named "input" from a safetensors file, used as it is.
func loadInput(m *zoo.Model, meta map[string]string, imagePath, tensorPath string) (*nn.Tensor, error) {
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
		c, h, w := m.Input[0], m.Input[1], m.Input[2]
		if meta[zoo.MetaMean] == "" && c == 3 && h == 224 && w == 224 {
			return data.Standardize(data.ResizeCenterCrop(img, 3, 256, 224), data.ImageNetMean, data.ImageNetStd), nil
		}
		pre, err := zoo.PreprocessOf(meta, c)
		if err != nil {
			return nil, err
		}
		return data.ToTensor(img, c, h, w, pre.Mean, pre.Std), nil
	}
	return nil, fmt.Errorf("-image FILE or -tensor FILE.safetensors is required")
}

// classNames are the names of m's outputs: the checkpoint's dataset's, or
// ImageNet's for 1000 classes, else numbers.
func classNames(m *zoo.Model, meta map[string]string) []string {
	if names := data.ClassNames(meta[zoo.MetaDataset]); len(names) == m.Classes {
		return names
	}
	if m.Classes == 1000 {
		return data.ClassNames("imagenet")
	}
	names := make([]string, m.Classes)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	return names
}
