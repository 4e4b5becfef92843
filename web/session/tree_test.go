package session_test

import (
	"bytes"
	"testing"

	"github.com/convscope/convscope/zoo"
)

// treeFixture serves one untrained model with blocks.
func treeFixture(t *testing.T, model string) (*fixture, *zoo.Summary) {
	t.Helper()
	f := serveModel(t, model, nil, nil)
	m, err := f.models.Open("")
	if err != nil {
		t.Fatal(err)
	}
	return f, m.Summary
}

// A run that opens a stage and one of its blocks streams, right after the
// stage, the stage's blocks, and right after that block its parts; an open
// message later streams another block's parts from the kept pass; nested
// units project like top-level ones.
func TestOpenedBlocksStreamTheirParts(t *testing.T) {
	f, sum := treeFixture(t, "resnet20")
	c := f.dial(t)
	var want []string
	for _, l := range sum.Top() {
		want = append(want, l.Name)
		if l.Name == "layer1" {
			want = append(want, "layer1.0", "layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu1", "layer1.0.conv2", "layer1.0.bn2",
				"layer1.0.shortcut", "layer1.0.add", "layer1.0.relu", "layer1.1", "layer1.2")
		}
	}
	// "layer2.0" is ignored: its stage is not open, so the run never gets to it.
	c.runExpecting(sum, `{"type":"run","sample":"fashion-mnist/00-coat.png","open":["layer1","layer1.0","layer2.0","nothing"]}`, want)

	c.send(`{"type":"open","run":1,"layer":"layer2.0"}`)
	c.layers(1, sum, []string{"layer2.0.conv1", "layer2.0.bn1", "layer2.0.relu1", "layer2.0.conv2", "layer2.0.bn2",
		"layer2.0.shortcut", "layer2.0.add", "layer2.0.relu"})

	// A nested unit: its box comes from its own row (17 pixels, jump 2).
	p, img := c.project(`{"type":"project","run":1,"layer":"layer2.0.conv1","channel":3,"y":4,"x":5}`)
	row, index, _ := sum.Row("layer2.0.conv1")
	box := row.Box(4, 5, 32, 32)
	if p.Layer != "layer2.0.conv1" || p.Index != index || p.RF != 17 || p.Box != [4]int{box.Min.X, box.Min.Y, box.Max.X, box.Max.Y} ||
		img.Bounds().Dx() != 32 {
		t.Fatalf("projection %+v, want row %d's box %v", p, index, box)
	}
	// Outside the unit's field the projection is exactly zero (mid grey).
	for y := range 32 {
		for x := range 32 {
			r, _, _, _ := img.At(x, y).RGBA()
			if (y < box.Min.Y || y >= box.Max.Y || x < box.Min.X || x >= box.Max.X) && r>>8 != 128 {
				t.Fatalf("pixel (%d,%d) = %d outside the field %v", x, y, r>>8, box)
			}
		}
	}
	// The marks project too: the sum goes down both paths.
	for _, name := range []string{"layer1.0.add", "layer1.0.shortcut", "layer2.0.shortcut"} {
		if p, _ := c.project(`{"type":"project","layer":"` + name + `","channel":1}`); p.Layer != name || !p.Strongest {
			t.Errorf("projection of %s: %+v", name, p)
		}
	}
}

// An Inception module opens to its four branches and the concatenation;
// a ConvNeXt block's channels-last layers stream as (C,H,W) maps.
func TestInceptionAndConvNeXtParts(t *testing.T) {
	f, sum := treeFixture(t, "googlenet_small")
	c := f.dial(t)
	c.run(f, `{"type":"run","sample":"00-coat.png"}`)
	var parts []string
	for _, l := range sum.Layers {
		if l.Parent == "inception3a" {
			parts = append(parts, l.Name)
		}
	}
	if len(parts) != 3+6+6+4+1 {
		t.Fatalf("inception3a has %d parts: %v", len(parts), parts)
	}
	c.send(`{"type":"open","layer":"inception3a"}`)
	c.layers(1, sum, parts)
	c.project(`{"type":"project","layer":"inception3a.branch3.1.conv","channel":0}`)
	c.project(`{"type":"project","layer":"inception3a.cat","channel":20,"y":3,"x":3}`)

	f, sum = treeFixture(t, "convnext_mini")
	c = f.dial(t)
	c.run(f, `{"type":"run","sample":"00-coat.png"}`)
	block := ""
	for _, l := range sum.Layers {
		if l.Type == "Residual" {
			block = l.Name
			break
		}
	}
	parts = nil
	for _, l := range sum.Layers {
		if l.Parent == block {
			parts = append(parts, l.Name)
		}
	}
	c.send(`{"type":"open","layer":"` + block + `"}`)
	c.layers(1, sum, parts) // layers checks each frame against the row's (C,H,W) maps
	if p, _ := c.project(`{"type":"project","layer":"` + block + `.block.3","channel":5}`); p.Layer != block+".block.3" {
		t.Errorf("projection %+v", p)
	}
}

// GoogLeNet's auxiliary heads run only in training: opening one, or
// projecting a unit inside it, says so instead of answering nothing.
func TestAuxiliaryHeadsSayTheyDidNotRun(t *testing.T) {
	f, _ := treeFixture(t, "googlenet_aux")
	c := f.dial(t)
	c.send(`{"type":"run","sample":"fashion-mnist/00-coat.png"}`)
	for {
		kind, b := c.next()
		if kind == 1 && bytes.Contains(b, []byte(`"type":"prediction"`)) {
			break
		}
	}
	c.errorFor(`{"type":"open","layer":"aux1"}`, "aux1 did not run in this pass")
	c.errorFor(`{"type":"project","layer":"aux1.fc1","channel":0}`, "aux1.fc1 did not run in this pass")
}
