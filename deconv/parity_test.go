package deconv_test

import (
	"context"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/convscope/convscope/deconv"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// weights is tools/parity/attribution.py's weights(): the value of
// state_dict entry name, uniforms from the stream FNV-1a(name) scaled by the
// entry's role, so that the fixture need not hold any weights.
func weights(name string, t *nn.Tensor) {
	h := fnv.New64a()
	h.Write([]byte(name))
	seed := h.Sum64()
	// Python's uniform(): splitmix >> 11 over 2^53, in float64.
	u := deconv.Uniforms(seed, len(t.Data))
	for i := range t.Data {
		v := 2*u[i] - 1
		switch s := t.Shape; {
		case strings.HasSuffix(name, "running_var"):
			v = 1 + 0.5*v
		case strings.HasSuffix(name, "running_mean"), strings.HasSuffix(name, "bias"):
			v = 0.1 * v
		case len(s) > 2:
			v *= math.Sqrt(6 / float64(nn.Numel(s[1:])))
		case len(s) == 2:
			v *= 0.25 * math.Sqrt(3/float64(s[1]))
		default:
			v = 1 + 0.1*v
		}
		t.Data[i] = float32(v)
	}
}

// TestParityWithPyTorch checks every method on a plain chain (AlexNet), a
// residual network (ResNet-18) and an Inception network (GoogLeNet) against
// tools/parity/attribution.py's maps, for the predicted class and for a unit
// inside a block: the largest difference is at most 1e-4 of the map's
// largest magnitude.
func TestParityWithPyTorch(t *testing.T) {
	fix, meta, err := nn.LoadSafetensors("testdata/attribution.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	num := func(key string) int {
		v, err := strconv.Atoi(meta[key])
		if err != nil {
			t.Fatalf("fixture metadata %s: %v", key, err)
		}
		return v
	}
	noise, _ := strconv.ParseFloat(meta["noise"], 64)
	opt := deconv.Options{Steps: num("steps"), Samples: num("samples"), Noise: noise, Seed: uint64(num("seed")),
		Window: num("window"), Stride: num("stride"), Batch: 4}
	for _, name := range []string{"alexnet", "resnet18", "googlenet"} {
		t.Run(name, func(t *testing.T) {
			if testing.Short() && name != "alexnet" {
				t.Skip("short: the plain chain only")
			}
			m, err := zoo.Build(name, []int{3, 64, 64}, 10, 0)
			if err != nil {
				t.Fatal(err)
			}
			for key, p := range m.Net.State() {
				weights(key, p)
			}
			x := fix[name+"/input"]
			tr, err := m.Net.Forward(x, &nn.Context{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d := relDiff(tr.Output(), fix[name+"/logits"]); d > 1e-5 {
				t.Fatalf("logits differ by %.2g of their largest: the weights are not the fixture's", d)
			}
			class := nn.ArgMax(fix[name+"/logits"].Data)
			u := fix[name+"/unit"].Data
			unit := deconv.Goal{Layer: meta[name+"/layer"], Channel: int(u[0]), At: &deconv.Pos{Y: int(u[1]), X: int(u[2])}}
			model := deconv.Model{Net: m.Net}
			for _, method := range deconv.MethodNames() {
				goals := map[string]deconv.Goal{method + "/class": {Class: class}, method + "/unit": unit}
				if method == "gradcam" { // the class at each layer, inside blocks too
					goals = map[string]deconv.Goal{}
					for _, layer := range strings.Split(meta[name+"/gradcam_layers"], ",") {
						goals["gradcam@"+layer+"/class"] = deconv.Goal{Class: class, Layer: layer}
					}
				}
				for goal, g := range goals {
					want := fix[name+"/"+goal]
					if want == nil {
						t.Fatalf("no fixture %s/%s", name, goal)
					}
					r, err := deconv.Explain(context.Background(), model, x, tr, method, g, opt, nil)
					if err != nil {
						t.Fatalf("%s: %v", goal, err)
					}
					if !nn.SameShape(r.Map.Shape, want.Shape) {
						t.Errorf("%s: shape %v, PyTorch %v", goal, r.Map.Shape, want.Shape)
						continue
					}
					d := relDiff(r.Map, want)
					t.Logf("%-32s differs by %.2g of its largest magnitude", goal, d)
					if d > 1e-4 {
						t.Errorf("%s differs from PyTorch by %.2g of its largest magnitude (at most 1e-4)", goal, d)
					}
				}
			}
		})
	}
}

// relDiff is max|a-b| over max|b|.
func relDiff(a, b *nn.Tensor) float64 {
	var diff, peak float64
	for i := range b.Data {
		diff = max(diff, math.Abs(float64(a.Data[i])-float64(b.Data[i])))
		peak = max(peak, math.Abs(float64(b.Data[i])))
	}
	if peak == 0 {
		return diff
	}
	return diff / peak
}
