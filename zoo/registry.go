package zoo

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/convscope/convscope/nn"
)

// Model is a built network and what it expects as input.
type Model struct {
	// Name is the registry name ("lenet5").
	Name string
	// Input is the per-sample input shape (C,H,W).
	Input []int
	// Classes is the number of outputs.
	Classes int
	// Variant lists the changes made to the registered architecture, in
	// canonical form (FormatVariant); "" for none.
	Variant string
	// Net holds the layers and their weights.
	Net *nn.Sequential
}

// Label is the model's name with its variant, if any: "resnet20" or
// "resnet20 [no-shortcut]".
func (m *Model) Label() string {
	if m.Variant == "" {
		return m.Name
	}
	return m.Name + " [" + m.Variant + "]"
}

// Family describes one registered architecture.
type Family struct {
	Name        string
	Description string
	// Input and Classes are the defaults used when a caller passes none.
	Input   []int
	Classes int
	build   func(input []int, classes int) ([]nn.Layer, error)
}

var families = map[string]Family{}

func register(f Family) { families[f.Name] = f }

// Names lists the registered model names, sorted.
func Names() []string {
	out := make([]string, 0, len(families))
	for k := range families {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the family registered under name.
func Lookup(name string) (Family, error) {
	f, ok := families[name]
	if !ok {
		return Family{}, fmt.Errorf("unknown model %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return f, nil
}

// Build makes model name for a per-sample input (C,H,W) and a class count;
// nil input or classes 0 take the family's defaults. Weights are initialised
// as PyTorch does, from seed.
func Build(name string, input []int, classes int, seed uint64) (*Model, error) {
	return BuildVariant(name, "", input, classes, seed)
}

// BuildVariant is Build with the architecture changed by variant (see
// ParseVariant); the changed layers are initialised from seed with the
// rest, so one variant and seed give the same weights every time.
func BuildVariant(name, variant string, input []int, classes int, seed uint64) (*Model, error) {
	changes, err := ParseVariant(variant)
	if err != nil {
		return nil, err
	}
	f, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if input == nil {
		input = f.Input
	}
	if classes == 0 {
		classes = f.Classes
	}
	if err := CheckShape(input, classes); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	layers, err := f.build(input, classes)
	if err != nil {
		return nil, fmt.Errorf("%s for input %s: %w", name, nn.ShapeString(input), err)
	}
	if len(changes) > 0 {
		if layers, err = applyVariant(layers, changes); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if _, err := refitLinear(layers, input); err != nil {
			return nil, fmt.Errorf("%s [%s] for input %s: %w", name, FormatVariant(changes), nn.ShapeString(input), err)
		}
	}
	m := &Model{Name: name, Input: append([]int(nil), input...), Classes: classes, Variant: FormatVariant(changes),
		Net: &nn.Sequential{Layers: layers}}
	if _, err := Summarize(m); err != nil {
		return nil, err
	}
	nn.Init(layers, rand.New(rand.NewPCG(seed, 0x5eed)))
	return m, nil
}

// Limits on what a model may be built for, so that a checkpoint's metadata
// (or a flag) cannot ask for gigabytes of weights before anything is read.
const (
	MaxClasses       = 100000
	MaxInputChannels = 4
	MinInputSide     = 8
	MaxInputSide     = 1024
)

// CheckShape refuses a per-sample input (C,H,W) or class count outside the
// limits above.
func CheckShape(input []int, classes int) error {
	if len(input) != 3 {
		return fmt.Errorf("input %v: want C,H,W", input)
	}
	if c := input[0]; c < 1 || c > MaxInputChannels {
		return fmt.Errorf("input %s: %d channels, want 1 to %d", nn.ShapeString(input), c, MaxInputChannels)
	}
	for _, side := range input[1:] {
		if side < MinInputSide || side > MaxInputSide {
			return fmt.Errorf("input %s: sides must be %d to %d", nn.ShapeString(input), MinInputSide, MaxInputSide)
		}
	}
	if classes < 1 || classes > MaxClasses {
		return fmt.Errorf("%d classes, want 1 to %d", classes, MaxClasses)
	}
	return nil
}

// ParseShape reads "CxHxW" (e.g. "1x28x28").
func ParseShape(s string) ([]int, error) {
	parts := strings.Split(s, "x")
	out := make([]int, len(parts))
	for i, p := range parts {
		if _, err := fmt.Sscan(p, &out[i]); err != nil || out[i] <= 0 {
			return nil, fmt.Errorf("shape %q: want positive integers like 1x28x28", s)
		}
	}
	if len(out) != 3 {
		return nil, fmt.Errorf("shape %q: want CxHxW", s)
	}
	return out, nil
}
