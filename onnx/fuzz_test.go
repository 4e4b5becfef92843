package onnx

import (
	"fmt"
	"os"
	"testing"

	"github.com/convscope/convscope/internal/bounded"
)

// FuzzDecode feeds arbitrary bytes to Decode, and what decodes to Chain:
// an error or a model, never a panic, a hang or an allocation out of
// proportion to the input.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"conv2d", "batchnorm2d_eval", "conv_with_strides_padding", "ops", "branchy"} {
		b, err := os.ReadFile("testdata/" + name + ".onnx")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, b := range hostile(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m *Model
		var err error
		bounded.Run(t, fmt.Sprintf("Decode of %d bytes", len(b)), uint64(64<<20+64*len(b)), func() {
			if m, err = Decode(b); err == nil {
				m.Chain() // builds layers from what the file holds: bounded by it
			}
		})
		if err == nil {
			for name, w := range m.Weights {
				n := 1
				for _, d := range w.Shape {
					n *= d
				}
				if n != len(w.Data) {
					t.Fatalf("%s: shape %v with %d values", name, w.Shape, len(w.Data))
				}
			}
		}
	})
}
