package card

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/onnx"
	"github.com/convscope/convscope/zoo"
)

// Load builds a model and its card: from a convscope checkpoint
// (safetensors naming its model in the metadata), from a PyTorch
// state_dict (.pth, or a plain .safetensors) of architecture model, or of
// the architecture its tensors identify when model is "" (zoo.Identify),
// or, when file is empty, architecture model with PyTorch-style random
// weights from seed. model, when given with a convscope checkpoint, must be
// the one it names. The card is named after the file, without its
// extension.
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
	if strings.EqualFold(filepath.Ext(file), ".onnx") {
		return loadONNX(name, file, source, model)
	}
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
	state, err := zoo.ReadStateDict(file)
	if err != nil {
		return nil, Card{}, err
	}
	arch, classes, err := Architecture(model, state)
	if err != nil {
		return nil, Card{}, fmt.Errorf("%s: %w", file, err)
	}
	m, err := zoo.Build(arch, nil, classes, seed)
	if err != nil {
		return nil, Card{}, err
	}
	if err := m.Net.Load(state); err != nil {
		return nil, Card{}, fmt.Errorf("%s into %s: %w", file, arch, err)
	}
	c, err := OfCheckpoint(name, m, nil, source)
	return m, c, err
}

// Architecture is the zoo architecture a state_dict is of, and its class
// count: model when named (the classes from its head's tensors), else the
// one whose tensors it has (zoo.Identify).
func Architecture(model string, state map[string]*nn.Tensor) (string, int, error) {
	if model == "" {
		arch, classes, err := zoo.Identify(state)
		if err != nil {
			return "", 0, fmt.Errorf("%w (or name the architecture)", err)
		}
		return arch, classes, nil
	}
	f := zoo.FingerprintFor(model)
	if len(f.Head) == 0 {
		_, err := zoo.Lookup(model)
		return model, 0, err
	}
	if t, ok := state[f.Head[0]]; ok && len(t.Shape) > 0 {
		return model, t.Shape[0], nil
	}
	return model, f.Classes, nil
}

// ONNX is the Model of every card read from an ONNX file: its network is
// the file's graph, not a zoo architecture.
const ONNX = "onnx"

// loadONNX builds the network of an ONNX file's graph (onnx.Model.Chain).
// An ONNX file carries no normalisation: a 3x224x224 input gets ImageNet's
// transform, any other none, as OfCheckpoint decides.
func loadONNX(name, file, source, model string) (*zoo.Model, Card, error) {
	if model != "" && model != ONNX {
		return nil, Card{}, fmt.Errorf("%s: an ONNX file brings its own graph; leave -model out", file)
	}
	om, err := onnx.Read(file)
	if err != nil {
		return nil, Card{}, err
	}
	net, input, classes, err := om.Chain()
	if err != nil {
		return nil, Card{}, fmt.Errorf("%s: %w", file, err)
	}
	if err := zoo.CheckShape(input, classes); err != nil {
		return nil, Card{}, fmt.Errorf("%s: %w", file, err)
	}
	m := &zoo.Model{Name: ONNX, Input: input, Classes: classes, Net: net}
	c, err := OfCheckpoint(name, m, nil, source)
	return m, c, err
}
