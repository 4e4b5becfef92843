package main

import (
	"log/slog"

	"github.com/convscope/convscope/web/catalog"
)

// openCatalog is the server's models: the embedded trained checkpoints,
// then every other network of the zoo with random weights.
func openCatalog(logger *slog.Logger) (*catalog.Catalog, error) {
	c, err := catalog.Embedded()
	if err != nil {
		return nil, err
	}
	c.AddZoo()
	for _, e := range c.Entries() {
		if !e.Trained {
			continue
		}
		logger.Info("model available", "name", e.Name, "model", e.Model, "dataset", e.Dataset, "test_accuracy", e.TestAccuracy)
	}
	return c, nil
}
