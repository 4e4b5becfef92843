package card

import (
	"image"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// halves is a w×h picture, black on its left half, white on its right.
func halves(w, h int) image.Image {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := w / 2; x < w; x++ {
			img.SetGray(x, y, color.Gray{255})
		}
	}
	return img
}

// ImageNet's transform crops the middle 224 of a 512x256 picture's width,
// pixel for pixel: its left half black, its right white. The small models'
// fit keeps the whole picture, a 224x112 strip between borders of its edge
// colour.
func TestPixels(t *testing.T) {
	img := halves(512, 256)
	imagenet := Card{Input: []int{3, 224, 224}, Pre: ImageNet}
	p := imagenet.Pixels(img)
	at := func(p *nn.Tensor, y, x int) float32 { return p.Data[y*p.Shape[3]+x] }
	if at(p, 0, 0) != 0 || at(p, 0, 111) != 0 || at(p, 0, 112) != 1 || at(p, 223, 223) != 1 {
		t.Errorf("centre crop: row 0 has %v %v %v", at(p, 0, 0), at(p, 0, 111), at(p, 0, 112))
	}
	fit := Card{Input: []int{1, 224, 224}}
	q := fit.Pixels(img)
	if at(q, 112, 0) != 0 || at(q, 112, 223) != 1 || at(q, 0, 0) == 0 || at(q, 0, 0) == 1 {
		t.Errorf("fit: middle row %v..%v, top-left border %v (want the border's mean colour)", at(q, 112, 0), at(q, 112, 223), at(q, 0, 0))
	}
	// Normalisation: ImageNet's red channel of a white pixel.
	_, x := imagenet.Prepare(img)
	if got, want := x.Data[223], float32((1-0.485)/0.229); math.Abs(float64(got-want)) > 1e-6 {
		t.Errorf("normalised white red %g, want %g", got, want)
	}
}

// Pictures are kept with the shorter side at most 256 and the longer at
// most 512, transparent pixels white.
func TestPicture(t *testing.T) {
	for _, c := range []struct{ w, h, kw, kh int }{{600, 400, 384, 256}, {4096, 1024, 512, 128}, {100, 60, 100, 60}, {300, 300, 256, 256}} {
		b := Picture(halves(c.w, c.h)).Bounds()
		if b.Dx() != c.kw || b.Dy() != c.kh {
			t.Errorf("%dx%d kept at %dx%d, want %dx%d", c.w, c.h, b.Dx(), b.Dy(), c.kw, c.kh)
		}
	}
	clear := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	if r, _, _, _ := Picture(clear).At(1, 1).RGBA(); r>>8 != 255 {
		t.Errorf("a transparent pixel kept as %d, want white", r>>8)
	}
}

func TestUntrained(t *testing.T) {
	for _, c := range []struct {
		model, dataset string
		classes        int
		resize         int
	}{{"resnet18", "imagenet", 1000, 256}, {"lenet5", "fashion-mnist", 10, 0}, {"resnet20", "", 10, 0}} {
		k, err := Untrained(c.model, 3)
		if err != nil || k.Dataset != c.dataset || len(k.Classes) != c.classes || k.Pre.Resize != c.resize || k.Trained || k.Source != "random initialisation, seed 3" {
			t.Errorf("%s: %+v, %v", c.model, k, err)
		}
	}
	if k, _ := Untrained("resnet20", 0); k.Classes[3] != "class 3" || k.DatasetLabel() != NoDataset {
		t.Errorf("resnet20's classes %v, dataset %q", k.Classes[:4], k.DatasetLabel())
	}
	if _, err := Untrained("resnet7", 0); err == nil {
		t.Error("an unknown architecture has a card")
	}
}

// A convscope checkpoint's card comes from its metadata; a plain
// state_dict of an ImageNet architecture gets ImageNet's classes and
// transform; the file names the card.
func TestLoad(t *testing.T) {
	m, c, err := Load("", "../weights/lenet5-fashion-mnist.safetensors", 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "lenet5-fashion-mnist" || c.Model != "lenet5" || c.Dataset != "fashion-mnist" || c.Classes[9] != "Ankle boot" ||
		!c.Trained || len(c.Pre.Mean) != 1 || c.Pre.Resize != 0 || c.Source != "file lenet5-fashion-mnist.safetensors" || m.Name != "lenet5" {
		t.Errorf("card %+v", c)
	}
	if !c.InvertsBrightPictures() {
		t.Error("a Fashion-MNIST model does not invert bright pictures")
	}
	// A state_dict's architecture is named, or found from its tensors.
	pth := "../zoo/testdata/lenet5.pth"
	for _, model := range []string{"lenet5", ""} {
		m, c, err = Load(model, pth, 0)
		if err != nil || m.Name != "lenet5" || c.Name != "lenet5" || !c.Trained || c.Dataset != "" || !slices.Equal(c.Classes, Numbered(10)) {
			t.Errorf("card of %s (model %q): %+v, %v", filepath.Base(pth), model, c, err)
		}
	}
	if _, _, err := Load("resnet20", pth, 0); err == nil || !strings.Contains(err.Error(), "lenet5.pth into resnet20") {
		t.Errorf("lenet5's tensors into resnet20: %v", err)
	}
	if _, _, err := Load("", "../zoo/testdata/layouts.pth", 0); err == nil || !strings.Contains(err.Error(), "match no architecture") {
		t.Errorf("tensors of no architecture: %v", err)
	}
	im := &zoo.Model{Name: "resnet18", Input: []int{3, 224, 224}, Classes: 1000}
	if c, err := OfCheckpoint("resnet18-f37072fd", im, nil, "file resnet18-f37072fd.pth"); err != nil || c.Dataset != "imagenet" || c.Classes[281] != "tabby" || c.Pre.Resize != 256 {
		t.Errorf("a torchvision checkpoint's card: %+v, %v", c, err)
	}
	_ = m
}

// An ONNX file is a model of its own: its graph, named after the file,
// numbered classes, no normalisation for a 32x32 input; -model must be
// left out.
func TestLoadONNX(t *testing.T) {
	m, c, err := Load("", "../onnx/testdata/chain.onnx", 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "chain" || c.Model != ONNX || m.Classes != 10 || !slices.Equal(c.Input, []int{3, 32, 32}) || c.Pre.Resize != 0 || len(c.Pre.Mean) != 0 || c.Source != "file chain.onnx" {
		t.Errorf("card %+v", c)
	}
	if _, _, err := Load("resnet18", "../onnx/testdata/chain.onnx", 0); err == nil || !strings.Contains(err.Error(), "leave -model out") {
		t.Errorf("-model with an ONNX file: %v", err)
	}
	if _, _, err := Load("", "../onnx/testdata/conv_with_strides_padding.onnx", 0); err == nil || !strings.Contains(err.Error(), "conv_with_strides_padding.onnx") {
		t.Errorf("an ONNX graph that is not a chain: %v", err)
	}
}

// Denormalize undoes Normalize: a picture's pixels come back, clipped to
// [0,1].
func TestDenormalizeUndoesNormalize(t *testing.T) {
	c := Card{Input: []int{3, 2, 2}, Pre: Preprocess{Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}}
	pixels := nn.New(1, 3, 2, 2)
	for i := range pixels.Data {
		pixels.Data[i] = float32(i) / 11
	}
	back := c.Denormalize(c.Normalize(pixels))
	for i, v := range back.Data {
		if d := v - pixels.Data[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("value %d: %g, want %g", i, v, pixels.Data[i])
		}
	}
	x := nn.New(1, 3, 2, 2)
	x.Data[0], x.Data[1] = 100, -100
	if got := c.Denormalize(x); got.Data[0] != 1 || got.Data[1] != 0 {
		t.Errorf("not clipped: %v", got.Data[:2])
	}
}
