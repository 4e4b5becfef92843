package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/convscope/convscope/data"
)

// topk's JSON is the contract the issue names:
// {"layer":NAME,"channels":[{"channel":0,"top":[{"index","y","x","activation"}...]}...]},
// strongest first; a second run reads the cache and says the same; the
// figure is a PNG.
func TestTopKContract(t *testing.T) {
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
	dir := t.TempDir()
	args := []string{"-weights", "../../weights/lenet5-fashion-mnist.safetensors", "-data", "fashion-mnist", "-layer", "c3",
		"-limit", "300", "-k", "9", "-cache", dir, "-json"}
	first, err := run(t, "topk", args...)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Layer    string
		Channels []struct {
			Channel int
			Top     []struct {
				Index, Y, X int
				Activation  float32
			}
		}
	}
	if err := json.Unmarshal([]byte(first), &r); err != nil {
		t.Fatal(err)
	}
	if r.Layer != "c3" || len(r.Channels) != 16 {
		t.Fatalf("layer %q with %d channels, want c3's 16", r.Layer, len(r.Channels))
	}
	for _, c := range r.Channels {
		if len(c.Top) != 9 {
			t.Fatalf("channel %d keeps %d images", c.Channel, len(c.Top))
		}
		for i, h := range c.Top {
			if h.Index < 0 || h.Index >= 300 || h.Y < 0 || h.Y >= 10 || h.X < 0 || h.X >= 10 || (i > 0 && h.Activation > c.Top[i-1].Activation) {
				t.Fatalf("channel %d, rank %d: %+v", c.Channel, i, h)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "topk-*.json"))
	if len(files) != 1 {
		t.Fatalf("cache holds %v", files)
	}
	again, err := run(t, "topk", args...)
	if err != nil || again != first {
		t.Errorf("the cached scan differs: %v", err)
	}
	out := filepath.Join(dir, "fig2.png")
	if _, err := run(t, "topk", append(args[:len(args)-1], "-out", out, "-channels", "0,5")...); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if img, err := png.Decode(f); err != nil || img.Bounds().Dx() < 200 {
		t.Errorf("figure: %v", err)
	}
	if _, err := run(t, "topk", "-weights", "../../weights/lenet5-fashion-mnist.safetensors", "-layer", "nope", "-json"); err == nil {
		t.Error("an unknown layer was scanned")
	}
}
