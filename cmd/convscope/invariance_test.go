package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The embedded LeNet-5 and two of the web gallery's pictures.
const (
	zfWeights = "../../weights/lenet5-fashion-mnist.safetensors"
	zfBoot    = "../../static/samples/fashion-mnist/00-ankle-boot.png"
	zfCoat    = "../../static/samples/fashion-mnist/05-coat.png"
)

// invarianceJSON is the shape invariance -json promises.
type invarianceJSON struct {
	Kind   string   `json:"kind"`
	Layers []string `json:"layers"`
	Images []struct {
		Image   string    `json:"image"`
		Label   *int      `json:"label"`
		Class   string    `json:"class"`
		Amounts []float64 `json:"amounts"`
		Layers  []struct {
			Layer    string    `json:"layer"`
			Distance []float64 `json:"distance"`
			Relative []float64 `json:"relative"`
		} `json:"layers"`
		Probability []float64 `json:"probability"`
		Plain       float64   `json:"plain"`
	} `json:"images"`
}

// zfTopClass is infer's top-1 class of a picture: the label invariance
// must pick by default.
func zfTopClass(t *testing.T, picture string) int {
	t.Helper()
	out, err := run(t, "infer", "-weights", zfWeights, "-image", picture, "-json")
	if err != nil {
		t.Fatal(err)
	}
	var r struct{ Top5 [][]struct{ Class int } }
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Top5) != 1 || len(r.Top5[0]) == 0 {
		t.Fatalf("infer: %v in %s", err, out)
	}
	return r.Top5[0][0].Class
}

func TestInvarianceJSON(t *testing.T) {
	out, err := run(t, "invariance", "-weights", zfWeights, "-image", zfBoot, "-image", zfCoat,
		"-kind", "translate", "-steps", "5", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var r invarianceJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	// LeNet-5's first convolution and the layer before its output.
	if r.Kind != "translate" || strings.Join(r.Layers, ",") != "c1,f6.act" || len(r.Images) != 2 {
		t.Fatalf("kind %q, layers %v, %d images", r.Kind, r.Layers, len(r.Images))
	}
	for i, picture := range []string{zfBoot, zfCoat} {
		im := r.Images[i]
		if im.Image != picture || im.Label == nil || *im.Label != zfTopClass(t, picture) || im.Class == "" {
			t.Errorf("image %d: %q label %v class %q", i, im.Image, im.Label, im.Class)
		}
		if want := []float64{-0.3, -0.15, 0, 0.15, 0.3}; !slices.Equal(im.Amounts, want) {
			t.Errorf("image %d: amounts %v, want %v", i, im.Amounts, want)
		}
		if len(im.Layers) != 2 || len(im.Probability) != 5 {
			t.Fatalf("image %d: %d layers, %d probabilities", i, len(im.Layers), len(im.Probability))
		}
		for _, l := range im.Layers {
			if len(l.Distance) != 5 || len(l.Relative) != 5 || l.Distance[2] != 0 || l.Distance[0] <= 0 || l.Distance[4] <= 0 {
				t.Errorf("image %d %s: distances %v, want 0 only in the middle", i, l.Layer, l.Distance)
			}
		}
		if im.Probability[2] != im.Plain || im.Plain < 0.1 || im.Plain > 1 {
			t.Errorf("image %d: probability %v at the identity, plain %v", i, im.Probability[2], im.Plain)
		}
	}
}

func TestInvarianceWritesCharts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "charts")
	msg, err := run(t, "invariance", "-weights", zfWeights, "-image", zfBoot, "-image", zfCoat,
		"-labels", "9,4", "-kind", "rotate", "-steps", "7", "-layers", "c3,f6.act", "-out", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"invariance-rotate-c3.svg", "invariance-rotate-f6.act.svg", "invariance-rotate-probability.svg"} {
		path := filepath.Join(dir, name)
		if !strings.Contains(msg, path) {
			t.Errorf("%q does not say it wrote %s", msg, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		paths, texts := 0, ""
		d := xml.NewDecoder(strings.NewReader(string(b)))
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s is not XML: %v", name, err)
			}
			switch e := tok.(type) {
			case xml.StartElement:
				if e.Name.Local == "path" {
					paths++
				}
			case xml.CharData:
				texts += string(e)
			}
		}
		if paths != 2 || !strings.Contains(texts, "00-ankle-boot.png (Ankle boot)") || !strings.Contains(texts, "05-coat.png (Coat)") {
			t.Errorf("%s: %d paths, texts %q", name, paths, texts)
		}
	}
}

func TestInvarianceRefuses(t *testing.T) {
	base := []string{"-weights", zfWeights, "-image", zfBoot, "-json"}
	six := []string{"-weights", zfWeights, "-json"}
	for range 6 {
		six = append(six, "-image", zfBoot)
	}
	cases := []struct {
		args []string
		want string
	}{
		{append(base, "-kind", "shear"), "shear"},
		{six, "1 to 5 -image"},
		{append(base, "-labels", "1,2"), "2 classes for 1 pictures"},
		{append(base, "-label", "10"), "class 10"},
		{append(base, "-layers", "c1,c9"), `"c9"`},
		{append(base, "-steps", "1"), "-steps 1"},
		{[]string{"-weights", zfWeights, "-image", zfBoot}, "-json or -out"},
	}
	for _, c := range cases {
		if _, err := run(t, "invariance", c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: want an error with %q, got %v", c.args, c.want, err)
		}
	}
}
