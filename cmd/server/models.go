package main

import (
	"log/slog"

	"github.com/convscope/convscope/web/catalog"
)

// openCatalog lists the models the server offers.
//
// TODO(weights): use the embedded trained checkpoints of package weights
// once it builds; until then LeNet-5 runs with random weights.
func openCatalog(logger *slog.Logger) (*catalog.Catalog, error) {
	logger.Warn("no trained weights wired yet; serving an untrained LeNet-5")
	return catalog.Untrained("lenet5", 1)
}
