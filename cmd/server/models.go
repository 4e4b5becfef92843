package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/weights"
	"github.com/convscope/convscope/zoo"
)

// openCatalog lists the embedded trained checkpoints of package weights,
// the default (index.json's first) first; an entry's name is its file name
// without the extension ("lenet5-fashion-mnist").
func openCatalog(logger *slog.Logger) (*catalog.Catalog, error) {
	index, err := weights.Index()
	if err != nil {
		return nil, fmt.Errorf("embedded weights: %w", err)
	}
	if len(index) == 0 {
		return nil, fmt.Errorf("embedded weights: index.json lists no checkpoints")
	}
	entries := make([]catalog.Entry, len(index))
	files := map[string]weights.Entry{}
	for i, w := range index {
		input, err := zoo.ParseShape(w.Input)
		if err != nil {
			return nil, fmt.Errorf("embedded weights %s: %w", w.File, err)
		}
		name := strings.TrimSuffix(w.File, ".safetensors")
		entries[i] = catalog.Entry{Name: name, Model: w.Model, Input: input, Dataset: w.Dataset, Classes: w.Classes,
			Mean: w.Mean, Std: w.Std, Trained: true, TestAccuracy: w.TestAccuracy, Command: w.Command}
		files[name] = w
		logger.Info("model available", "name", name, "model", w.Model, "dataset", w.Dataset, "test_accuracy", w.TestAccuracy)
	}
	return catalog.New(entries, func(e catalog.Entry) (*zoo.Model, error) { return weights.Open(files[e.Name]) }), nil
}
