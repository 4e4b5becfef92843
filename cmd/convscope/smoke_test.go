package main

import (
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
)

// writeCIFAR10 writes a CIFAR-10 binary tree (cifar-10-batches-bin/) with n
// records per batch file: class c's pictures are noise around a colour of
// their own, so a network can learn them a little in one epoch.
func writeCIFAR10(t *testing.T, dir string, n int) {
	t.Helper()
	root := filepath.Join(dir, "cifar-10-batches-bin")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	files := []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"}
	for _, name := range files {
		var b []byte
		for i := 0; i < n; i++ {
			label := i % 10
			b = append(b, byte(label))
			for ch := 0; ch < 3; ch++ {
				base := 40 + 20*((label+ch*3)%10)
				for p := 0; p < 1024; p++ {
					b = append(b, byte(min(255, base+r.IntN(40))))
				}
			}
		}
		if err := os.WriteFile(filepath.Join(root, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names := "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"
	if err := os.WriteFile(filepath.Join(root, "batches.meta.txt"), []byte(names), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The CIFAR path end to end for every family's small form: one epoch on a
// few hundred generated images in CIFAR-10's binary format, with
// augmentation, metrics files and a checkpoint that eval reads back.
func TestSmokeTrainEveryFamilyOnCIFARFormat(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	writeCIFAR10(t, dir, 64) // 320 training images, 64 test images
	for _, model := range []string{"lenet5", "alexnet_small", "zfnet_small", "vgg_small", "googlenet_small",
		"resnet20", "mobilenet_v1_small_050", "mobilenet_v2_small", "convnext_mini"} {
		t.Run(model, func(t *testing.T) {
			out := filepath.Join(dir, model+".safetensors")
			opt := []string{"-opt", "sgd", "-lr", "0.02"}
			if model == "convnext_mini" {
				opt = []string{"-opt", "adamw", "-lr", "0.002", "-wd", "0.05"}
			}
			args := append([]string{"-model", model, "-data", "cifar10", "-data-dir", dir, "-epochs", "1", "-batch", "32",
				"-augment", "crop-flip", "-out", out}, opt...)
			msg, err := run(t, "train", args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, msg)
			}
			for _, f := range []string{out, strings.TrimSuffix(out, ".safetensors") + ".jsonl", strings.TrimSuffix(out, ".safetensors") + ".csv"} {
				if _, err := os.Stat(f); err != nil {
					t.Error(err)
				}
			}
			ev, err := run(t, "eval", "-weights", out, "-data", "cifar10", "-data-dir", dir)
			if err != nil || !strings.Contains(ev, "accuracy: 0.") && !strings.Contains(ev, "accuracy: 1.") {
				t.Fatalf("eval: %v\n%s", err, ev)
			}
			t.Log(strings.TrimSpace(ev[strings.LastIndex(ev, "accuracy"):]))
		})
	}
	table, err := run(t, "results", "-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(table, "| cifar10 |"); rows != 9 {
		t.Errorf("results table has %d rows, want 9:\n%s", rows, table)
	}
	if !strings.Contains(table, "| resnet20 | cifar10 | 269,722 |") {
		t.Errorf("no resnet20 row with its parameter count:\n%s", table)
	}
}

// A finished run's state resumed with -resume reports the same epochs and
// writes the same weights: the CLI's state file, fingerprint and metrics
// plumbing (mid-run kills are tested bit for bit in package train).
func TestCLIResume(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	writeCIFAR10(t, dir, 32)
	common := []string{"-model", "lenet5", "-data", "cifar10", "-data-dir", dir, "-epochs", "2", "-batch", "16", "-augment", "crop-flip"}
	first := filepath.Join(dir, "first.safetensors")
	state := filepath.Join(dir, "run.state")
	if msg, err := run(t, "train", append(common, "-out", first, "-state", state)...); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	again := filepath.Join(dir, "again.safetensors")
	msg, err := run(t, "train", append(common, "-out", again, "-state", state, "-resume")...)
	if err != nil {
		t.Fatalf("resuming: %v\n%s", err, msg)
	}
	a, _, err := nn.LoadSafetensors(first)
	if err != nil {
		t.Fatal(err)
	}
	b, meta, err := nn.LoadSafetensors(again)
	if err != nil {
		t.Fatal(err)
	}
	if cmd := meta["command"]; !strings.HasPrefix(cmd, "convscope train -model lenet5") || strings.Contains(cmd, "-resume") {
		t.Errorf("resumed run records %q: want the command that reproduces it, without -resume", cmd)
	}
	for k, v := range a {
		for i, x := range v.Data {
			if b[k] == nil || b[k].Data[i] != x {
				t.Fatalf("%s differs after resuming", k)
			}
		}
	}
	if _, err := run(t, "train", append(common, "-lr", "0.5", "-out", again, "-state", state, "-resume")...); err == nil {
		t.Error("resumed with another learning rate")
	}
}

// An image folder trains too: class sub-folders of PNGs (40x30, resized and
// centre-cropped to 28x28) and a stratified held-out quarter to test on.
func TestTrainOnImageFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 3))
	for c, name := range []string{"dark", "light"} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ {
			img := image.NewGray(image.Rect(0, 0, 40, 30))
			for p := range img.Pix {
				img.Pix[p] = uint8(40 + 150*c + r.IntN(50))
			}
			f, _ := os.Create(filepath.Join(dir, name, fmt.Sprintf("%02d.png", i)))
			png.Encode(f, img)
			f.Close()
		}
	}
	out := filepath.Join(t.TempDir(), "folder.safetensors")
	msg, err := run(t, "train", "-model", "lenet5", "-data", "folder:"+dir, "-input", "1x28x28", "-val", "0.25",
		"-epochs", "3", "-batch", "8", "-lr", "0.05", "-out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	if !strings.Contains(msg, "test accuracy 1.0000") {
		t.Errorf("dark vs light pictures not learned:\n%s", msg)
	}
	if _, err := run(t, "train", "-model", "lenet5", "-data", "folder:"+filepath.Join(dir, "missing"), "-out", out); err == nil {
		t.Error("a missing folder trained")
	}
}
