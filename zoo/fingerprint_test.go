package zoo_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// fingerprints.json is what the generator writes today (go generate
// ./zoo), and every architecture's own state_dict is identified as it, or
// as one of the architectures that share its tensors exactly.
func TestFingerprintsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every architecture")
	}
	want, err := zoo.GenerateFingerprints()
	if err != nil {
		t.Fatal(err)
	}
	have, _ := os.ReadFile("fingerprints.json")
	if !bytes.Equal(have, want) {
		t.Fatal("zoo/fingerprints.json is stale: run go generate ./zoo")
	}
}

func TestIdentify(t *testing.T) {
	for _, c := range []struct {
		name    string
		classes int
	}{{"lenet5", 7}, {"resnet18", 1000}, {"resnet20", 10}, {"googlenet", 5}, {"mobilenet_v2_small", 10}, {"convnext_mini", 3}, {"vgg_small", 10}} {
		m, err := zoo.Build(c.name, nil, c.classes, 0)
		if err != nil {
			t.Fatal(err)
		}
		name, classes, err := zoo.Identify(m.Net.State())
		if err != nil || name != c.name || classes != c.classes {
			t.Errorf("%s with %d classes identified as %q with %d: %v", c.name, c.classes, name, classes, err)
		}
	}
	// A state that is not a zoo architecture names the nearest and how it
	// differs.
	m, _ := zoo.Build("resnet20", nil, 10, 0)
	state := m.Net.State()
	delete(state, "layer3.2.conv2.weight")
	state["layer1.0.conv1.weight"] = nn.New(16, 3, 3, 3)
	state["extra.weight"] = nn.New(2)
	_, _, err := zoo.Identify(state)
	if err == nil || !strings.Contains(err.Error(), "the nearest, resnet20, differs") || !strings.Contains(err.Error(), "no layer3.2.conv2.weight") ||
		!strings.Contains(err.Error(), "layer1.0.conv1.weight is [16, 3, 3, 3], not [16, 16, 3, 3]") || !strings.Contains(err.Error(), "an extra extra.weight") {
		t.Errorf("a damaged resnet20: %v", err)
	}
	if _, _, err := zoo.Identify(map[string]*nn.Tensor{}); err == nil {
		t.Error("an empty state identified")
	}
}

// Every architecture's tensors (shapes only, from its fingerprint) are
// identified as it, or found ambiguous with the architectures that have
// exactly the same tensors.
func TestEveryArchitectureIdentifies(t *testing.T) {
	for _, name := range zoo.Names() {
		f := zoo.FingerprintFor(name)
		state := map[string]*nn.Tensor{}
		for k, shape := range f.Keys {
			state[k] = &nn.Tensor{Shape: shape}
		}
		got, classes, err := zoo.Identify(state)
		switch {
		case err != nil && strings.Contains(err.Error(), name+" and ") || err != nil && strings.Contains(err.Error(), " and "+name):
			t.Logf("%s: %v", name, err)
		case err != nil || got != name || classes != f.Classes:
			t.Errorf("%s identified as %q with %d classes: %v", name, got, classes, err)
		}
	}
}
