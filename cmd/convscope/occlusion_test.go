package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
)

const (
	occWeights = "../../weights/lenet5-fashion-mnist.safetensors"
	occImage   = "../../static/samples/fashion-mnist/00-ankle-boot.png"
)

// occlusion's JSON: the result's fields with the model, the input and the
// label's name; a 28x28 picture with window 8 and stride 4 gives 6x6
// positions, each with a probability in [0,1] and a class of 0..9.
func TestOcclusionJSON(t *testing.T) {
	out, err := run(t, "occlusion", "-weights", occWeights, "-image", occImage, "-layer", "c3",
		"-window", "8", "-stride", "4", "-batch", "7", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Model, Input, Class string
		Layer               string
		Channel, Label      int
		Unit                *struct{ Y, X int }
		Window, Stride      int
		Rows, Cols          int
		Activation          []float32
		Probability         []float32
		Predicted           []int
		Plain               *struct {
			Activation, Probability float32
			Predicted               int
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if r.Model != "lenet5" || r.Input != occImage || r.Layer != "c3" || r.Window != 8 || r.Stride != 4 || r.Rows != 6 || r.Cols != 6 {
		t.Fatalf("model %q input %q layer %q window %d stride %d grid %dx%d", r.Model, r.Input, r.Layer, r.Window, r.Stride, r.Rows, r.Cols)
	}
	if r.Unit == nil || r.Plain == nil || len(r.Activation) != 36 || len(r.Probability) != 36 || len(r.Predicted) != 36 {
		t.Fatalf("unit %v plain %v, %d activations, %d probabilities, %d classes", r.Unit, r.Plain, len(r.Activation), len(r.Probability), len(r.Predicted))
	}
	if r.Channel < 0 || r.Channel >= 16 || r.Unit.Y < 0 || r.Unit.Y >= 10 || r.Unit.X < 0 || r.Unit.X >= 10 {
		t.Errorf("channel %d at %+v, outside c3's 16 maps of 10x10", r.Channel, *r.Unit)
	}
	// No -label: the top class on the plain picture, named as the card does.
	names := []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
	if r.Label != r.Plain.Predicted || r.Label < 0 || r.Label > 9 || r.Class != names[r.Label] {
		t.Errorf("label %d (%q), plain top class %d", r.Label, r.Class, r.Plain.Predicted)
	}
	for i := range r.Predicted {
		if k := r.Predicted[i]; k < 0 || k > 9 {
			t.Errorf("position %d: class %d, want 0..9", i, k)
		}
		if p := r.Probability[i]; !(p >= 0 && p <= 1) {
			t.Errorf("position %d: probability %g, want 0..1", i, p)
		}
	}
}

// -out writes the five panels as a PNG; -tensor reads one normalised input.
func TestOcclusionFigureFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "fig7.png")
	msg, err := run(t, "occlusion", "-weights", occWeights, "-image", occImage, "-layer", "c5", "-label", "9", "-out", out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "wrote "+out) {
		t.Errorf("message %q", msg)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pic, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if w := pic.Bounds().Dx(); w < 5*168 {
		t.Errorf("figure %d pixels wide, want at least five 168-pixel panels", w)
	}

	x := nn.New(1, 1, 28, 28)
	for i := range x.Data {
		x.Data[i] = float32(i%9)/9 - 0.5
	}
	in := filepath.Join(dir, "x.safetensors")
	if err := nn.SaveSafetensors(in, map[string]*nn.Tensor{"input": x}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "occlusion", "-model", "lenet5", "-tensor", in, "-layer", "f6", "-channel", "3", "-json"); err != nil {
		t.Error(err)
	}
}

func TestOcclusionFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-weights", occWeights, "-image", occImage, "-json"}, "-layer"},
		{[]string{"-weights", occWeights, "-image", occImage, "-layer", "c3"}, "-json"},
		{[]string{"-weights", occWeights, "-image", occImage, "-layer", "c9", "-json"}, "c9"},
		{[]string{"-weights", occWeights, "-image", occImage, "-layer", "c3", "-channel", "16", "-json"}, "channel 16"},
		{[]string{"-weights", occWeights, "-image", occImage, "-layer", "c3", "-label", "10", "-json"}, "label 10"},
		{[]string{"-weights", occWeights, "-image", occImage, "-layer", "c3", "-window", "40", "-json"}, "window 40"},
		{[]string{"-weights", occWeights, "-layer", "c3", "-json"}, "-image"},
	} {
		if _, err := run(t, "occlusion", c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %s", c.args, err, c.want)
		}
	}
}
