package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tools/bench/twins.py's PyTorch twins of the small forms are the same
// networks as convscope's: each takes the embedded weights with
// strict=True and gives the same logits as `convscope infer` on random
// pictures (so the speed table compares like with like). Skipped where
// Debian's python3-torch is missing.
func TestBenchTwinsAreTheSameNetworks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds convscope and runs PyTorch")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch, torchvision").Run(); err != nil {
		t.Skip("python3-torch and python3-torchvision are not installed:", err)
	}
	bin := filepath.Join(t.TempDir(), "convscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command("/usr/bin/python3", "tools/bench/twins.py", "--check", "weights", "--convscope", bin)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("twins.py --check: %v\n%s", err, out)
	}
	for _, name := range resultsModels {
		if !strings.Contains(string(out), name+" ") || !strings.Contains(string(out), "of convscope's") {
			t.Errorf("no check of %s:\n%s", name, out)
		}
	}
	if n := strings.Count(string(out), "logits within"); n != len(resultsModels) {
		t.Errorf("%d twins checked, %d small forms:\n%s", n, len(resultsModels), out)
	}
}
