package zoo

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
)

// rowsUnder lists the rows inside block as "name type branch", in order.
func rowsUnder(s *Summary, block string) []string {
	var out []string
	for _, l := range s.Layers {
		if l.Parent == block {
			out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s", l.Name, l.Type, l.Branch)))
		}
	}
	return out
}

func summarize(t *testing.T, model string, in []int) *Summary {
	t.Helper()
	m, err := Build(model, in, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Summarize(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func row(t *testing.T, s *Summary, name string) LayerInfo {
	t.Helper()
	l, _, ok := s.Row(name)
	if !ok {
		t.Fatalf("%s has no row %q", s.Model, name)
	}
	return l
}

// A CIFAR ResNet's block opens to conv1, bn1, relu1, conv2, bn2 on the main
// path, the shortcut (identity, option A or option B's two layers), the
// addition and the ReLU after it.
func TestResidualBlockRows(t *testing.T) {
	a := summarize(t, "resnet20", []int{3, 32, 32})
	for block, want := range map[string][]string{
		"layer1.0": {"layer1.0.conv1 Conv2d main", "layer1.0.bn1 BatchNorm2d main", "layer1.0.relu1 ReLU main",
			"layer1.0.conv2 Conv2d main", "layer1.0.bn2 BatchNorm2d main", "layer1.0.shortcut Identity shortcut",
			"layer1.0.add Add", "layer1.0.relu ReLU"},
		"layer2.0": {"layer2.0.conv1 Conv2d main", "layer2.0.bn1 BatchNorm2d main", "layer2.0.relu1 ReLU main",
			"layer2.0.conv2 Conv2d main", "layer2.0.bn2 BatchNorm2d main", "layer2.0.shortcut ShortcutA shortcut",
			"layer2.0.add Add", "layer2.0.relu ReLU"},
		"layer1": {"layer1.0 Residual", "layer1.1 Residual", "layer1.2 Residual"},
	} {
		if got := rowsUnder(a, block); !slices.Equal(got, want) {
			t.Errorf("resnet20 %s opens to %q, want %q", block, got, want)
		}
	}
	b := summarize(t, "resnet20_b", []int{3, 32, 32})
	if got := rowsUnder(b, "layer2.0")[5:7]; !slices.Equal(got, []string{"layer2.0.downsample.0 Conv2d shortcut", "layer2.0.downsample.1 BatchNorm2d shortcut"}) {
		t.Errorf("resnet20_b's layer2.0 shortcut is %q", got)
	}
	if l := row(t, a, "layer2.0.conv2"); l.Depth != 2 || l.Parent != "layer2.0" || row(t, a, "layer2.0").Parts != 8 {
		t.Errorf("layer2.0.conv2 at depth %d under %q; layer2.0 has %d parts", l.Depth, l.Parent, row(t, a, "layer2.0").Parts)
	}
	// Receptive fields by hand (3x3 convolutions, padding 1, start 0):
	// conv1 3; layer1's six 3x3 convolutions add 2 each: 15, jump 1.
	// layer2.0.conv1 (stride 2) 17, jump 2; conv2 21. The option-A
	// shortcut subsamples: 15, jump 2. The sum is the wider path's, 21.
	for name, want := range map[string][2]int{"conv1": {3, 1}, "layer1.0.conv1": {5, 1}, "layer1.0.shortcut": {3, 1},
		"layer1.0.add": {7, 1}, "layer1": {15, 1}, "layer2.0.conv1": {17, 2}, "layer2.0.conv2": {21, 2},
		"layer2.0.shortcut": {15, 2}, "layer2.0.add": {21, 2}, "layer2.0.relu": {21, 2}, "layer2.0": {21, 2}} {
		if l := row(t, a, name); l.RF != want[0] || l.Jump != want[1] {
			t.Errorf("resnet20 %s: RF %d jump %d, want %d and %d", name, l.RF, l.Jump, want[0], want[1])
		}
	}
	// The global pooling's one unit sees the whole 32x32 input (the
	// recurrence alone would say far more than 32).
	for _, name := range []string{"avgpool", "flatten", "fc"} {
		if l := row(t, a, name); !l.Whole {
			t.Errorf("resnet20 %s: RF %d jump %d, not the whole input", name, l.RF, l.Jump)
		}
	}
	// layer3's units see 41 to 81 pixels, 4 apart on an 8x8 grid: even
	// the corner units reach across the whole 32x32 input. layer2.0's
	// 21-pixel fields do not.
	if l := row(t, a, "layer3.2.conv2"); !l.Whole || l.RF != 81 || row(t, a, "layer2.0.conv2").Whole {
		t.Errorf("layer3.2.conv2: RF %d jump %d, want the whole input", l.RF, l.Jump)
	}
	// Totals count each parameter once, at the top level (weights/MODELS.md
	// gives 269,722 for the 3-channel ResNet-20).
	if a.Params != 269722 {
		t.Errorf("resnet20 has %d parameters, want 269,722", a.Params)
	}
}

// An Inception module opens to its four branches, side by side, and the
// concatenation, whose channels are the branches' added up.
func TestInceptionRows(t *testing.T) {
	s := summarize(t, "googlenet_small", []int{1, 28, 28})
	var branches []string
	for _, l := range s.Layers {
		if l.Parent == "inception3a" && !slices.Contains(branches, l.Branch) {
			branches = append(branches, l.Branch)
		}
	}
	if want := []string{"inception3a.branch1", "inception3a.branch2", "inception3a.branch3", "inception3a.branch4", ""}; !slices.Equal(branches, want) {
		t.Errorf("inception3a's branches %q, want %q", branches, want)
	}
	cat := row(t, s, "inception3a.cat")
	// googlenet_small divides widths by 4: 64/4 + 128/4 + 32/4 + 32/4 = 64.
	if cat.Type != "Cat" || !slices.Equal(cat.Output, []int{64, 14, 14}) || !slices.Equal(cat.Output, row(t, s, "inception3a").Output) {
		t.Errorf("inception3a.cat: %s %v, module %v", cat.Type, cat.Output, row(t, s, "inception3a").Output)
	}
	if l := row(t, s, "inception3a.branch2.1.conv"); !slices.Equal(l.Output, []int{32, 14, 14}) || l.Branch != "inception3a.branch2" {
		t.Errorf("inception3a.branch2.1.conv: %v on %q", l.Output, l.Branch)
	}
}

// Inside a ConvNeXt block the Linear layers work on (H,W,C): their rows
// say so, and Maps gives the (C,H,W) maps the page draws.
func TestConvNeXtBlockRows(t *testing.T) {
	s := summarize(t, "convnext_mini", []int{1, 28, 28})
	var block string
	for _, l := range s.Layers {
		if l.Type == "Residual" {
			block = l.Name
			break
		}
	}
	var types []string
	for _, l := range s.Layers {
		if l.Parent == block {
			types = append(types, l.Type)
		}
	}
	if want := []string{"Conv2d", "Permute", "LayerNorm", "Linear", "GELU", "Linear", "Permute", "LayerScale", "StochasticDepth", "Identity", "Add"}; !slices.Equal(types, want) {
		t.Errorf("%s opens to %q, want %q", block, types, want)
	}
	for _, l := range s.Layers {
		if l.Parent != block {
			continue
		}
		hwc := l.Type == "LayerNorm" || l.Type == "Linear" || l.Type == "GELU" || (l.Type == "Permute" && l.Output[2] != l.Output[0] && l.Layout == "hwc")
		if hwc != (l.Layout == "hwc") && l.Type != "Permute" {
			t.Errorf("%s (%s) layout %q", l.Name, l.Type, l.Layout)
		}
		if l.Layout == "hwc" && !slices.Equal(l.Maps, []int{l.Output[2], l.Output[0], l.Output[1]}) {
			t.Errorf("%s: maps %v of output %v", l.Name, l.Maps, l.Output)
		}
	}
}

// A channels-last output's value at (h, w, c) is map c's pixel (h, w).
func TestChannelsFirst(t *testing.T) {
	out := nn.New(1, 2, 3, 4) // H=2, W=3, C=4
	for i := range out.Data {
		out.Data[i] = float32(i)
	}
	got := (LayerInfo{Layout: "hwc"}).ChannelsFirst(out)
	if !slices.Equal(got.Shape, []int{1, 4, 2, 3}) {
		t.Fatalf("shape %v", got.Shape)
	}
	// (h=1, w=2, c=3) is element (1*3+2)*4+3 = 23; in map 3 it is (1*3+2) = 5.
	if v := got.Data[3*6+5]; v != 23 {
		t.Errorf("map 3 at (1,2) = %g, want 23", v)
	}
	if (LayerInfo{}).ChannelsFirst(out) != out {
		t.Error("a channels-first row copied its output")
	}
}
