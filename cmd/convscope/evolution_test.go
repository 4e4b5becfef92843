package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convscope/convscope/data"
)

// A tiny run (LeNet-5, 2 epochs on the first 2000 training images) keeps a
// snapshot per epoch; evolution reads them in epoch order and says, per
// channel and snapshot, which sample image and unit is strongest, as
// {"layer","sample","epochs":[1,2],"channels":[{"channel","snapshots":[{"epoch","index","y","x","activation"}]}]};
// the figure is a PNG with a row per channel.
func TestEvolutionFromTrainSnapshots(t *testing.T) {
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
	dir := t.TempDir()
	snaps := filepath.Join(dir, "snaps")
	if _, err := run(t, "train", "-model", "lenet5", "-data", "fashion-mnist", "-epochs", "2", "-limit", "2000", "-batch", "64",
		"-snapshots", snaps, "-out", filepath.Join(dir, "final.safetensors")); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(snaps)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"epoch-001.safetensors", "epoch-002.safetensors"}; !slices.Equal(names, want) {
		t.Fatalf("train -snapshots wrote %v, want %v", names, want)
	}

	out, err := run(t, "evolution", "-snapshots", snaps, "-layer", "c3", "-channels", "0,3,7", "-sample", "300", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Layer    string
		Sample   int
		Epochs   []int
		Channels []struct {
			Channel   int
			Snapshots []struct {
				Epoch, Index, Y, X int
				Activation         *float32
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if r.Layer != "c3" || r.Sample != 300 || !slices.Equal(r.Epochs, []int{1, 2}) || len(r.Channels) != 3 {
		t.Fatalf("layer %q, sample %d, epochs %v, %d channels; want c3, 300, [1 2], 3", r.Layer, r.Sample, r.Epochs, len(r.Channels))
	}
	for i, c := range r.Channels {
		if c.Channel != []int{0, 3, 7}[i] || len(c.Snapshots) != 2 {
			t.Fatalf("row %d: channel %d with %d snapshots", i, c.Channel, len(c.Snapshots))
		}
		for j, s := range c.Snapshots {
			if s.Epoch != j+1 || s.Index < 0 || s.Index >= 300 || s.Y < 0 || s.Y >= 10 || s.X < 0 || s.X >= 10 || s.Activation == nil {
				t.Fatalf("channel %d, snapshot %d: %+v", c.Channel, j, s)
			}
		}
	}

	fig := filepath.Join(dir, "fig4.png")
	if _, err := run(t, "evolution", "-snapshots", snaps, "-layer", "c3", "-sample", "300", "-out", fig); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(fig)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// Eight rows (the default channels) of 78 pixels (c3's 14-pixel field
	// at zoom 5, cell 72, plus 6) under the caption and the headings.
	if b := img.Bounds(); b.Dy() < 8*78 || b.Dx() < 2*168 {
		t.Errorf("figure %v: too small for 8 channels in 2 snapshots", b)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-snapshots", dir, "-layer", "c3", "-json"}, "holds no epoch-NNN.safetensors"},
		{[]string{"-snapshots", snaps, "-layer", "nope", "-json"}, `no layer "nope"`},
		{[]string{"-snapshots", snaps, "-layer", "c3", "-channels", "16", "-json"}, "not a channel of 0..15"},
		{[]string{"-snapshots", snaps, "-layer", "c3"}, "give -json, -out FILE.png or both"},
	} {
		if _, err := run(t, "evolution", c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("evolution %v: %v, want %q", c.args, err, c.want)
		}
	}
}
