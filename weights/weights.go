// Package weights embeds convscope's trained checkpoints, so that the
// visualizer runs with real models on a fresh clone and no download.
// index.json lists them; MODELS.md says how each was made.
package weights

import (
	"embed"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

//go:embed index.json *.safetensors
var files embed.FS

// Entry describes one embedded checkpoint (one element of index.json).
type Entry struct {
	// File is the checkpoint's name in this directory.
	File string `json:"file"`
	// Model is a name zoo.Build accepts.
	Model string `json:"model"`
	// Input is the per-sample shape, CxHxW.
	Input string `json:"input"`
	// Dataset is what it was trained on ("fashion-mnist").
	Dataset string `json:"dataset"`
	// Classes names the outputs, in order.
	Classes []string `json:"classes"`
	// Mean and Std normalise inputs: x = (pixel/255 - Mean) / Std per
	// channel. Index reads them from the checkpoint's own metadata.
	Mean []float32 `json:"-"`
	Std  []float32 `json:"-"`
	// TestAccuracy is measured by Command's evaluation on the test set.
	TestAccuracy float64 `json:"test_accuracy"`
	// Command reproduces the checkpoint.
	Command string `json:"command"`
	// TrainImagesPerS is the run's training speed, the mean of its epochs'
	// images/s (docs/RESULTS.md's column; the machine is in MODELS.md).
	TrainImagesPerS float64 `json:"train_images_per_s"`
	// Epochs and WallTime are the run's length; Index reads them from the
	// checkpoint's own metadata.
	Epochs   int    `json:"-"`
	WallTime string `json:"-"`
}

// Index lists the embedded checkpoints, the default (the visualizer's first
// model) first.
func Index() ([]Entry, error) {
	b, err := files.ReadFile("index.json")
	if err != nil {
		return nil, err
	}
	var es []Entry
	if err := json.Unmarshal(b, &es); err != nil {
		return nil, fmt.Errorf("weights/index.json: %w", err)
	}
	for i := range es {
		e := &es[i]
		_, meta, err := read(e.File)
		if err != nil {
			return nil, err
		}
		shape, err := zoo.ParseShape(e.Input)
		if err != nil {
			return nil, fmt.Errorf("weights/index.json %s: %w", e.File, err)
		}
		pre, err := zoo.PreprocessOf(meta, shape[0])
		if err != nil {
			return nil, fmt.Errorf("weights/%s: %w", e.File, err)
		}
		e.Mean, e.Std = pre.Mean, pre.Std
		if e.Epochs, err = strconv.Atoi(meta[zoo.MetaEpochs]); err != nil {
			return nil, fmt.Errorf("weights/%s: metadata %q: %w", e.File, zoo.MetaEpochs, err)
		}
		e.WallTime = meta[zoo.MetaWallTime]
	}
	return es, nil
}

// Open builds e's model with its trained weights.
func Open(e Entry) (*zoo.Model, error) {
	b, _, err := read(e.File)
	if err != nil {
		return nil, err
	}
	m, _, err := zoo.DecodeCheckpoint(b, e.Model)
	if err != nil {
		return nil, fmt.Errorf("weights/%s: %w", e.File, err)
	}
	return m, nil
}

// read returns an embedded checkpoint's bytes and its metadata.
func read(file string) ([]byte, map[string]string, error) {
	b, err := files.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("weights: %w", err)
	}
	meta, err := nn.SafetensorsMetadata(b)
	if err != nil {
		return nil, nil, fmt.Errorf("weights/%s: %w", file, err)
	}
	return b, meta, nil
}
