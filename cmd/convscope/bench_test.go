package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
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

// -memprofile writes the run's allocations as a pprof profile (gzip-framed
// protobuf), naming the layers' functions that allocated.
func TestBenchMemProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mem.pprof")
	var out strings.Builder
	if err := bench(context.Background(), []string{"-only", "train_img_per_s.lenet5_1x28x28", "-memprofile", path}, &out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 100 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("%s: %d bytes, not a gzip-framed pprof profile", path, len(b))
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("alloc_space")) || !bytes.Contains(raw, []byte("convscope/nn.")) {
		t.Errorf("the profile names no alloc_space sample or no function of package nn")
	}
}
