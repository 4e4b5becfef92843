package card

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// Load builds a model and its card: from a convscope checkpoint
// (safetensors naming its model in the metadata), from a PyTorch
// state_dict (.pth, or a plain .safetensors) of architecture model, or,
// when file is empty, architecture model with PyTorch-style random weights
// from seed. model, when given with a convscope checkpoint, must be the
// one it names.
func Load(model, file string, seed uint64) (*zoo.Model, Card, error) {
	if file == "" {
		if model == "" {
			return nil, Card{}, fmt.Errorf("-model NAME or -weights FILE is required")
		}
		c, err := Untrained(model, seed)
		if err != nil {
			return nil, c, err
		}
		m, err := zoo.Build(model, nil, 0, seed)
		return m, c, err
	}
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	source := "file " + filepath.Base(file)
	if strings.EqualFold(filepath.Ext(file), ".safetensors") {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, Card{}, err
		}
		meta, err := nn.SafetensorsMetadata(b)
		if err != nil {
			return nil, Card{}, fmt.Errorf("%s: %w", file, err)
		}
		if meta[zoo.MetaModel] != "" {
			m, meta, err := zoo.DecodeCheckpoint(b, model)
			if err != nil {
				return nil, Card{}, fmt.Errorf("%s: %w", file, err)
			}
			c, err := OfCheckpoint(name, m, meta, source)
			if err != nil {
				return nil, c, fmt.Errorf("%s: %w", file, err)
			}
			return m, c, nil
		}
	}
	if model == "" {
		return nil, Card{}, fmt.Errorf("%s names no model: pass -model", file)
	}
	m, err := zoo.Build(model, nil, 0, seed)
	if err != nil {
		return nil, Card{}, err
	}
	if err := zoo.LoadWeights(m, file); err != nil {
		return nil, Card{}, err
	}
	c, err := OfCheckpoint(name, m, nil, source)
	return m, c, err
}
