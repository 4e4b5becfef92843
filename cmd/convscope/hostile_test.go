package main

import (
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// pngHeader is the start of a PNG of w x h pixels: the signature and a
// valid IHDR chunk, all image.DecodeConfig reads, and no pixels.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := []byte("IHDR")
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	b = binary.BigEndian.AppendUint32(b, uint32(len(ihdr)-4))
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

// Hostile inputs of the CLI get a one-line error naming the file (or flag)
// and what is wrong, before anything of their declared size is allocated.
func TestCLIRefusesHostileInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	m, _ := zoo.Build("lenet5", nil, 10, 7)
	weights := filepath.Join(dir, "w.safetensors")
	if err := zoo.SaveCheckpoint(weights, m, nil); err != nil {
		t.Fatal(err)
	}
	pic := filepath.Join(dir, "ok.png")
	f, _ := os.Create(pic)
	png.Encode(f, image.NewGray(image.Rect(0, 0, 28, 28)))
	f.Close()
	batch0 := filepath.Join(dir, "batch0.safetensors")
	if err := nn.SaveSafetensors(batch0, map[string]*nn.Tensor{"input": nn.New(0, 1, 28, 28)}, nil); err != nil {
		t.Fatal(err)
	}
	hugeMeta, _ := nn.EncodeSafetensors(m.Net.State(), map[string]string{zoo.MetaModel: "lenet5", zoo.MetaInput: "1x2000x2000", zoo.MetaClasses: "10"})
	out := filepath.Join(dir, "out.png")
	for _, c := range []struct {
		cmd  string
		args []string
		want []string
	}{
		{"infer", []string{"-weights", weights, "-image", write("huge.png", pngHeader(100000, 100000))}, []string{"huge.png", "100000x100000"}},
		{"infer", []string{"-weights", weights, "-image", write("wide.png", pngHeader(8193, 1))}, []string{"wide.png", "8193x1"}},
		{"infer", []string{"-weights", weights, "-tensor", batch0}, []string{"batch0.safetensors", "N at least 1"}},
		{"infer", []string{"-model", "resnet18", "-weights", write("empty.pth", nil), "-image", pic}, []string{"empty.pth", "empty file"}},
		{"infer", []string{"-weights", write("meta.safetensors", hugeMeta), "-image", pic}, []string{"meta.safetensors", "sides must be 8 to 1024"}},
		{"attribute", []string{"-weights", weights, "-image", pic, "-out", out, "-scale", "100000"}, []string{"-scale 100000"}},
		{"attribute", []string{"-weights", weights, "-image", pic, "-out", out, "-scale", "0"}, []string{"-scale 0"}},
		{"attribute", []string{"-weights", weights, "-tensor", batch0, "-out", out}, []string{"batch0.safetensors", "N at least 1"}},
	} {
		_, err := run(t, c.cmd, c.args...)
		if err == nil {
			t.Errorf("%s %v: no error", c.cmd, c.args)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %v: %q does not say %q", c.cmd, c.args, err, w)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s %v: error of several lines: %q", c.cmd, c.args, err)
		}
	}
	if _, err := run(t, "attribute", "-weights", weights, "-image", pic, "-out", out, "-scale", "64"); err != nil {
		t.Errorf("-scale 64 on a 28x28 map: %v", err)
	}
}
