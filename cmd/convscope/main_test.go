package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

func run(t *testing.T, cmd string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := commands[cmd].run(context.Background(), args, &out)
	return out.String(), err
}

// The summary's JSON is a contract other tools read:
// {"model","input","params","macs","layers":[{"name","type","output","params","macs","rf","jump"}]}.
func TestSummaryJSONContract(t *testing.T) {
	out, err := run(t, "summary", "-model", "lenet5", "-input", "1x32x32", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Model  string
		Input  []int
		Params int64
		MACs   int64 `json:"macs"`
		Layers []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if s.Model != "lenet5" || len(s.Input) != 3 || s.Input[1] != 32 || s.Params == 0 || s.MACs == 0 || len(s.Layers) == 0 {
		t.Errorf("summary %+v", s)
	}
	for _, key := range []string{"name", "type", "output", "params", "macs", "rf", "jump"} {
		if _, ok := s.Layers[0][key]; !ok {
			t.Errorf("layer rows lack %q: %v", key, s.Layers[0])
		}
	}
	if _, err := run(t, "summary", "-model", "nope"); err == nil {
		t.Error("unknown model accepted")
	}
}

func TestAttributeWritesPNG(t *testing.T) {
	dir := t.TempDir()
	m, _ := zoo.Build("lenet5", nil, 10, 7)
	weights := filepath.Join(dir, "w.safetensors")
	if err := zoo.SaveCheckpoint(weights, m, nil); err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	in := filepath.Join(dir, "in.png")
	f, _ := os.Create(in)
	png.Encode(f, img)
	f.Close()
	for _, args := range [][]string{
		{"-method", "deconvnet", "-layer", "c3", "-channel", "4"},
		{"-method", "gradient", "-class", "3"},
		{"-method", "guided", "-layer", "c5", "-channel", "0"},
	} {
		out := filepath.Join(dir, args[1]+".png")
		msg, err := run(t, "attribute", append(args, "-model", "lenet5", "-weights", weights, "-image", in, "-out", out, "-scale", "2")...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		pic, err := png.Decode(f)
		f.Close()
		if err != nil || pic.Bounds().Dx() != 56 {
			t.Errorf("%v: %v, %v (%s)", args, pic.Bounds(), err, msg)
		}
	}
	if _, err := run(t, "attribute", "-method", "deconvnet", "-weights", weights, "-image", in, "-layer", "c9", "-out", filepath.Join(dir, "x.png")); err == nil || !strings.Contains(err.Error(), "c9") {
		t.Errorf("unknown layer: %v", err)
	}
	if _, err := run(t, "attribute", "-method", "deconvnet", "-weights", weights, "-image", weights, "-layer", "c1", "-out", filepath.Join(dir, "x.png")); err == nil {
		t.Error("a safetensors file decoded as an image")
	}
}

// Training a few hundred real images and evaluating the checkpoint goes
// through the whole CLI path; skipped where Fashion-MNIST is not installed.
func TestTrainThenEval(t *testing.T) {
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
	if testing.Short() {
		t.Skip("-short")
	}
	out := filepath.Join(t.TempDir(), "lenet.safetensors")
	msg, err := run(t, "train", "-model", "lenet5", "-epochs", "1", "-limit", "512", "-out", out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "epoch 1/1") {
		t.Errorf("no epoch line in %q", msg)
	}
	msg, err = run(t, "eval", "-weights", out, "-data", "fashion-mnist")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "accuracy: 0.") {
		t.Errorf("last line %q, want accuracy: 0.xxxx", last)
	}
}

// infer with -tensor and -json prints the raw logits; they must equal a
// forward pass of the same randomly initialised model.
func TestInferTensorJSON(t *testing.T) {
	dir := t.TempDir()
	x := nn.New(2, 1, 28, 28)
	for i := range x.Data {
		x.Data[i] = float32(i%17) / 17
	}
	in := filepath.Join(dir, "x.safetensors")
	if err := nn.SaveSafetensors(in, map[string]*nn.Tensor{"input": x}, nil); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "infer", "-model", "lenet5", "-seed", "3", "-tensor", in, "-json")
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Logits [][]float32 }
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Logits) != 2 || len(got.Logits[0]) != 10 {
		t.Fatalf("%v: %s", err, out)
	}
	m, _ := zoo.Build("lenet5", nil, 0, 3)
	tr, _ := m.Net.Forward(x, &nn.Context{}, nil)
	for i, v := range got.Logits[1] {
		if v != tr.Output().Data[10+i] {
			t.Fatalf("logit %d = %g, forward gives %g", i, v, tr.Output().Data[10+i])
		}
	}
	top, err := run(t, "infer", "-model", "lenet5", "-tensor", in)
	if err != nil || strings.Count(top, "\n") != 12 { // two headers, five lines each
		t.Errorf("top-5 listing %q, %v", top, err)
	}
	bad := filepath.Join(dir, "bad.safetensors")
	nn.SaveSafetensors(bad, map[string]*nn.Tensor{"input": nn.New(1, 3, 28, 28)}, nil)
	if _, err := run(t, "infer", "-model", "lenet5", "-tensor", bad); err == nil || !strings.Contains(err.Error(), "takes") {
		t.Errorf("wrong-shaped tensor: %v", err)
	}
}

// attribute writes the raw map as safetensors; the gradient method's map is
// the gradient of the chosen logit, which nn's backward gives directly.
func TestAttributeSafetensors(t *testing.T) {
	dir := t.TempDir()
	x := nn.New(1, 1, 28, 28)
	for i := range x.Data {
		x.Data[i] = float32(i%5) / 5
	}
	in := filepath.Join(dir, "x.safetensors")
	nn.SaveSafetensors(in, map[string]*nn.Tensor{"input": x}, nil)
	out := filepath.Join(dir, "att.safetensors")
	if _, err := run(t, "attribute", "-method", "gradient", "-model", "lenet5", "-init-seed", "2", "-tensor", in, "-class", "4", "-out", out); err != nil {
		t.Fatal(err)
	}
	got, _, err := nn.LoadSafetensors(out)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := zoo.Build("lenet5", nil, 0, 2)
	tr, _ := m.Net.Forward(x, &nn.Context{}, nil)
	seed := nn.New(1, 10)
	seed.Data[4] = 1
	want, _ := m.Net.Backward(tr, len(tr.Steps)-1, seed, nn.Gradient, nil)
	a := got["attribution"]
	if a == nil || !nn.SameShape(a.Shape, []int{1, 1, 28, 28}) {
		t.Fatalf("attribution %v", a)
	}
	for i := range want.Data {
		if a.Data[i] != want.Data[i] {
			t.Fatalf("attribution[%d] = %g, gradient %g", i, a.Data[i], want.Data[i])
		}
	}
	if _, err := run(t, "attribute", "-method", "deconvnet", "-model", "lenet5", "-tensor", in, "-layer", "c3", "-channel", "2", "-out", out); err != nil {
		t.Fatal(err)
	}
}

// -layer takes names inside blocks too: a ResNet block's second conv.
func TestAttributeNestedLayer(t *testing.T) {
	dir := t.TempDir()
	x := nn.New(1, 3, 32, 32)
	for i := range x.Data {
		x.Data[i] = float32(i%11) / 11
	}
	in := filepath.Join(dir, "x.safetensors")
	nn.SaveSafetensors(in, map[string]*nn.Tensor{"input": x}, nil)
	for _, method := range []string{"deconvnet", "guided", "gradient"} {
		out := filepath.Join(dir, method+".safetensors")
		msg, err := run(t, "attribute", "-method", method, "-model", "resnet20", "-tensor", in, "-layer", "layer2.1.conv2", "-channel", "3", "-out", out)
		if err != nil || !strings.Contains(msg, "layer2.1.conv2") {
			t.Fatalf("%s: %v %s", method, err, msg)
		}
		a, _, err := nn.LoadSafetensors(out)
		if err != nil || !nn.SameShape(a["attribution"].Shape, []int{1, 3, 32, 32}) {
			t.Fatalf("%s: %v", method, err)
		}
	}
}

// attribute follows issue 15's contract for every method: the safetensors
// file holds one tensor "attribution", shaped like the input, or the map
// (Grad-CAM at its layer's resolution, occlusion one value per square).
func TestAttributeEveryMethod(t *testing.T) {
	dir := t.TempDir()
	x := nn.New(1, 1, 28, 28)
	for i := range x.Data {
		x.Data[i] = float32(i%7) / 7
	}
	in := filepath.Join(dir, "x.safetensors")
	nn.SaveSafetensors(in, map[string]*nn.Tensor{"input": x}, nil)
	for method, want := range map[string][]int{
		"deconvnet": {1, 1, 28, 28}, "gradient": {1, 1, 28, 28}, "guided": {1, 1, 28, 28},
		"gradcam": {1, 1, 10, 10}, "ig": {1, 1, 28, 28}, "smoothgrad": {1, 1, 28, 28}, "occlusion": {1, 1, 7, 7},
	} {
		out := filepath.Join(dir, method+".safetensors")
		args := []string{"-method", method, "-model", "lenet5", "-tensor", in, "-out", out, "-steps", "4", "-samples", "3", "-seed", "9", "-window", "4", "-stride", "4"}
		if method == "gradcam" {
			args = append(args, "-layer", "c3", "-class", "2")
		} else {
			args = append(args, "-class", "2")
		}
		msg, err := run(t, "attribute", args...)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		ts, meta, err := nn.LoadSafetensors(out)
		if err != nil || ts["attribution"] == nil || !nn.SameShape(ts["attribution"].Shape, want) || len(ts) != 1 {
			t.Fatalf("%s: %v %v, want one tensor %v", method, ts, err, want)
		}
		if meta["method"] != method || meta["class"] != "2" || !strings.Contains(msg, "of class 2") {
			t.Errorf("%s: metadata %v, message %q", method, meta, msg)
		}
	}
	// The unit of a layer, at a chosen position, as a PNG.
	png := filepath.Join(dir, "unit.png")
	if msg, err := run(t, "attribute", "-method", "smoothgrad", "-model", "lenet5", "-tensor", in, "-layer", "c3", "-channel", "4", "-y", "2", "-x", "7", "-out", png); err != nil || !strings.Contains(msg, "c3 channel 4 at (2,7)") {
		t.Fatalf("a chosen unit: %v %q", err, msg)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"-method", "lrp"}, "unknown method"},
		{[]string{"-layer", "c3", "-y", "2"}, "both -y and -x"},
		{[]string{"-method", "occlusion", "-window", "40"}, "window 40"},
		{[]string{"-method", "ig", "-steps", "5000"}, "steps 5000"},
		{[]string{"-method", "smoothgrad", "-noise", "-1"}, "noise -1"},
		{[]string{"-class", "10"}, "class 10"},
		{[]string{"-layer", "c3", "-channel", "16"}, "channel 16"},
	} {
		args := append([]string{"-model", "lenet5", "-tensor", in, "-out", filepath.Join(dir, "bad.png")}, bad.args...)
		if _, err := run(t, "attribute", args...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want %q", bad.args, err, bad.want)
		}
	}
}

// An ONNX file is a checkpoint like any other, with no -model: infer
// prints the logits PyTorch gave, attribute its gradient
// (tools/parity/onnx_export.py's fixtures).
func TestONNXInTheCLI(t *testing.T) {
	fix, _, err := nn.LoadSafetensors("../../onnx/testdata/chain.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "x.safetensors")
	nn.SaveSafetensors(in, map[string]*nn.Tensor{"input": fix["chain/input"]}, nil)
	const model = "../../onnx/testdata/chain.onnx"
	out, err := run(t, "infer", "-weights", model, "-tensor", in, "-json")
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Logits [][]float32 }
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Logits) != 1 {
		t.Fatalf("infer printed %q: %v", out, err)
	}
	for i, want := range fix["chain/logits"].Data {
		if d := got.Logits[0][i] - want; d > 1e-5 || d < -1e-5 {
			t.Fatalf("logits %v, PyTorch %v", got.Logits[0], fix["chain/logits"].Data)
		}
	}
	k := nn.ArgMax(fix["chain/logits"].Data)
	att := filepath.Join(dir, "g.safetensors")
	if _, err := run(t, "attribute", "-weights", model, "-tensor", in, "-method", "gradient", "-class", fmt.Sprint(k), "-out", att); err != nil {
		t.Fatal(err)
	}
	g, _, _ := nn.LoadSafetensors(att)
	want := fix["chain/gradient"].Data
	var peak, diff float64
	for i := range want {
		peak = max(peak, math.Abs(float64(want[i])))
		diff = max(diff, math.Abs(float64(g["attribution"].Data[i]-want[i])))
	}
	if diff > 1e-5*peak {
		t.Errorf("the gradient differs from PyTorch's by %.2g of its peak", diff/peak)
	}
}

// import builds an ONNX file's network and prints its table, blocks
// opened; a graph it cannot build is an error naming why.
func TestImportONNX(t *testing.T) {
	out, err := run(t, "import", "../../onnx/testdata/branchy.onnx")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"block.add", "incept.branch2.2", "incept.cat", "down.shortcut", "10 outputs (numbered)", "use it as a checkpoint"} {
		if !strings.Contains(out, want) {
			t.Errorf("import's output lacks %q:\n%s", want, out)
		}
	}
	if _, err := run(t, "import", "../../onnx/testdata/conv_with_strides_padding.onnx"); err == nil || !strings.Contains(err.Error(), "several inputs") {
		t.Errorf("a graph of two inputs: %v", err)
	}
	if _, err := run(t, "import", "../../zoo/testdata/lenet5.pth"); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("a .pth: %v", err)
	}
}
