package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// convscope figure names every figure, wants -out, and draws the
// explorer's projection with its input and caption: wider than the map
// alone, which attribute draws without -caption.
func TestFigure(t *testing.T) {
	list, err := run(t, "figure", "-h")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"attribution", "topk", "filters", "occlusion", "invariance", "correspondence"} {
		if !strings.Contains(list, "\n  "+kind+" ") {
			t.Errorf("figure -h lacks %s", kind)
		}
	}
	if _, err := run(t, "figure", "attribution", "-model", "lenet5"); err == nil || !strings.Contains(err.Error(), "-out is required") {
		t.Errorf("a figure with nowhere to go: %v", err)
	}
	if _, err := run(t, "figure", "histogram", "-out", "x.png"); err == nil || !strings.Contains(err.Error(), `no figure "histogram"`) {
		t.Errorf("an unknown figure: %v", err)
	}
	dir := t.TempDir()
	args := []string{"-weights", "../../weights/lenet5-fashion-mnist.safetensors", "-image", "../../static/samples/fashion-mnist/00-ankle-boot.png",
		"-layer", "c3", "-channel", "2", "-scale", "4"}
	bare, captioned := filepath.Join(dir, "bare.png"), filepath.Join(dir, "captioned.png")
	if _, err := run(t, "attribute", append(args, "-out", bare)...); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "figure", append([]string{"attribution"}, append(args, "-out", captioned)...)...); err != nil {
		t.Fatal(err)
	}
	width := func(path string) (int, int) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		return img.Bounds().Dx(), img.Bounds().Dy()
	}
	bw, bh := width(bare)
	cw, ch := width(captioned)
	if bw != 28*4 || cw < 2*bw || ch < bh+20 {
		t.Errorf("bare %dx%d, captioned %dx%d: the figure should hold the input beside the map under a caption", bw, bh, cw, ch)
	}
}
