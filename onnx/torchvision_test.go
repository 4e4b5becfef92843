package onnx_test

import (
	"os"
	"testing"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/nn"
)

// torchvision's ResNet-18, GoogLeNet and MobileNet v2, exported by
// torch.onnx (tools/parity/zoo.py writes them beside their .pth, git-ignored;
// CI runs it), give the logits of the same weights loaded by name into the
// zoo's architecture, within 1e-4 of their largest (torch.onnx folds each
// batch norm into its convolution, which rounds differently).
func TestTorchvisionExportsMatchTheirWeights(t *testing.T) {
	ran := 0
	for _, name := range []string{"resnet18", "googlenet", "mobilenet_v2", "convnext_tiny", "alexnet", "vgg11"} { // the last three with zoo.py --all
		base := "../zoo/testdata/torchvision/" + name
		if _, err := os.Stat(base + ".onnx"); err != nil {
			continue
		}
		ran++
		io, _, err := nn.LoadSafetensors(base + ".io.safetensors")
		if err != nil {
			t.Fatal(err)
		}
		logits := map[string][]float32{}
		for _, file := range []string{base + ".onnx", base + ".pth"} {
			m, c, err := card.Load("", file, 0)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if c.Dataset != "imagenet" || c.Pre.Resize != 256 {
				t.Errorf("%s: card %+v", file, c)
			}
			tr, err := m.Net.Forward(io["input"], &nn.Context{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			logits[file] = tr.Output().Data
		}
		if d := relDiff(logits[base+".onnx"], logits[base+".pth"]); d > 1e-4 {
			t.Errorf("%s: the ONNX export's logits differ from the .pth's by %.2g of their largest", name, d)
		} else {
			t.Logf("%s: the ONNX export's logits within %.2g of the .pth's", name, d)
		}
	}
	if ran == 0 {
		t.Skip("no torchvision exports: run /usr/bin/python3 tools/parity/zoo.py")
	}
}
