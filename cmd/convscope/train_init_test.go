package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/convscope/convscope/data"
)

// -init starts from a checkpoint: one epoch at a learning rate too small
// to move the weights keeps the embedded LeNet-5's test accuracy (0.91);
// another architecture's checkpoint is refused.
func TestTrainInit(t *testing.T) {
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
	out := filepath.Join(t.TempDir(), "tuned.safetensors")
	msg, err := run(t, "train", "-model", "lenet5", "-data", "fashion-mnist", "-epochs", "1", "-limit", "640", "-lr", "1e-7",
		"-schedule", "constant", "-init", "../../weights/lenet5-fashion-mnist.safetensors", "-out", out)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`test accuracy (0\.\d+)`).FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("no test accuracy in %q", msg)
	}
	if acc, _ := strconv.ParseFloat(m[1], 64); acc < 0.9 {
		t.Errorf("fine-tuned test accuracy %.4f, want the checkpoint's 0.91", acc)
	}
	_, err = run(t, "train", "-model", "lenet5", "-data", "fashion-mnist", "-epochs", "1", "-limit", "64",
		"-init", "../../weights/resnet20-fashion-mnist.safetensors", "-out", out)
	if err == nil || !strings.Contains(err.Error(), "is resnet20") {
		t.Errorf("a ResNet's weights for a LeNet-5: %v", err)
	}
}
