package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convscope/convscope/web/catalog"
)

// openCatalog is the server's models: the checkpoints of -model and
// -models first (the first is the default), then the embedded trained
// checkpoints, then every other network of the zoo with random weights. A
// -model file that fails stops the server; a file of -models that fails is
// logged and left out.
func openCatalog(logger *slog.Logger, named []catalog.File, dir string) (*catalog.Catalog, error) {
	c, err := catalog.Embedded()
	if err != nil {
		return nil, err
	}
	c.AddZoo()
	found, err := checkpointsIn(dir)
	if err != nil {
		return nil, err
	}
	files := append(slices.Clone(named), found...)
	for i, err := range c.AddFiles(files) {
		switch {
		case err != nil && i < len(named):
			return nil, fmt.Errorf("-model: %w", err)
		case err != nil:
			logger.Error("checkpoint left out (-models)", "err", err)
		}
	}
	for _, e := range c.Entries() {
		if !e.Trained {
			continue
		}
		logger.Info("model available", "name", e.Name, "model", e.Model, "dataset", e.Dataset, "test_accuracy", e.TestAccuracy, "source", e.Source)
	}
	return c, nil
}

// checkpointExts are the files -models picks up (ONNX graphs too).
var checkpointExts = []string{".pth", ".pt", ".safetensors", ".onnx"}

// checkpointsIn lists the checkpoints in dir (not its sub-folders), by
// name; none for "".
func checkpointsIn(dir string) ([]catalog.File, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("-models: %w", err)
	}
	var out []catalog.File
	for _, e := range entries {
		if e.Type().IsRegular() && slices.Contains(checkpointExts, strings.ToLower(filepath.Ext(e.Name()))) {
			out = append(out, catalog.File{Path: filepath.Join(dir, e.Name())})
		}
	}
	return out, nil
}

// parseModelFlag reads one -model value: FILE, or ARCH=FILE naming the
// zoo architecture of a state_dict.
func parseModelFlag(v string) (catalog.File, error) {
	arch, file, ok := strings.Cut(v, "=")
	if !ok {
		arch, file = "", v
	}
	if file == "" {
		return catalog.File{}, errors.New("want FILE or ARCH=FILE")
	}
	return catalog.File{Path: file, Model: arch}, nil
}
