package catalog

import (
	"fmt"
	"strings"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/weights"
	"github.com/convscope/convscope/zoo"
)

// Embedded is the catalog of the trained checkpoints embedded in package
// weights, index.json's first (the default) first; an entry's name is its
// file name without the extension ("lenet5-fashion-mnist").
func Embedded() (*Catalog, error) {
	index, err := weights.Index()
	if err != nil {
		return nil, fmt.Errorf("embedded weights: %w", err)
	}
	if len(index) == 0 {
		return nil, fmt.Errorf("embedded weights: index.json lists no checkpoints")
	}
	entries := make([]Entry, len(index))
	files := map[string]weights.Entry{}
	for i, w := range index {
		input, err := zoo.ParseShape(w.Input)
		if err != nil {
			return nil, fmt.Errorf("embedded weights %s: %w", w.File, err)
		}
		name := strings.TrimSuffix(w.File, ".safetensors")
		entries[i] = Entry{Name: name, Model: w.Model, Input: input, Dataset: w.Dataset, Classes: w.Classes,
			Pre: card.Preprocess{Mean: w.Mean, Std: w.Std}, Trained: true, Source: "embedded weights/" + w.File,
			TestAccuracy: w.TestAccuracy, Command: w.Command, Epochs: w.Epochs, WallTime: w.WallTime, TrainImagesPerS: w.TrainImagesPerS}
		files[name] = w
	}
	return New(entries, func(e Entry) (*zoo.Model, error) { return weights.Open(files[e.Name]) }), nil
}
