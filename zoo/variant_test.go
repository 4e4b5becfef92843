package zoo

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
)

func TestParseVariantCanonicalForm(t *testing.T) {
	for in, want := range map[string]string{
		"":                                   "",
		" no-bn ":                            "no-bn",
		"features.0=11x11/4, -features.2":    "features.0=11x11/4/5,-features.2",
		"features.0=7/2/1,no-lrn,no-dropout": "features.0=7x7/2/1,no-lrn,no-dropout",
		"no-shortcut":                        "no-shortcut",
	} {
		c, err := ParseVariant(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := FormatVariant(c); got != want {
			t.Errorf("%q: canonical %q, want %q", in, got, want)
		}
		again, err := ParseVariant(FormatVariant(c))
		if err != nil || FormatVariant(again) != want {
			t.Errorf("%q: canonical form does not read back: %v", in, err)
		}
	}
	for _, bad := range []string{"no-bm", "features.0=11x7/4", "features.0=11x11", "features.0=0x0/1", "features.0=3x3/1/9",
		"-", "-a b", "x=3x3/99", "<script>=3x3/1", strings.Repeat("no-bn,", MaxChanges) + "no-bn"} {
		if _, err := ParseVariant(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// stateOf builds a variant and returns it with its state.
func stateOf(t *testing.T, name, variant string, seed uint64) (*Model, map[string]*nn.Tensor) {
	t.Helper()
	m, err := BuildVariant(name, variant, nil, 0, seed)
	if err != nil {
		t.Fatalf("%s [%s]: %v", name, variant, err)
	}
	return m, m.Net.State()
}

func countType(ls []nn.Layer, typ string) int {
	n := 0
	for _, l := range ls {
		if l.Type() == typ {
			n++
		}
		if p, ok := l.(interface{ Children() []nn.Layer }); ok {
			n += countType(p.Children(), typ)
		}
	}
	return n
}

// A plain ResNet-20 has ResNet-20's weights (option A shortcuts have none)
// and computes each block as relu(body(x)): checked by running the
// residual model's own bodies and activations by hand.
func TestVariantNoShortcutIsThePlainNetwork(t *testing.T) {
	res, resState := stateOf(t, "resnet20", "", 7)
	plain, plainState := stateOf(t, "resnet20", "no-shortcut", 7)
	if plain.Variant != "no-shortcut" {
		t.Errorf("variant %q", plain.Variant)
	}
	if n := countType(plain.Net.Layers, "Residual"); n != 0 {
		t.Errorf("%d residual blocks left", n)
	}
	if len(plainState) != len(resState) {
		t.Fatalf("%d tensors, ResNet-20 has %d", len(plainState), len(resState))
	}
	for k, v := range resState {
		if w := plainState[k]; w == nil || !nn.SameShape(w.Shape, v.Shape) || maxDiff(w.Data, v.Data) != 0 {
			t.Fatalf("%s differs from ResNet-20's with the same seed", k)
		}
	}
	x := nn.New(append([]int{2}, plain.Input...)...)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	ctx := &nn.Context{}
	tr, err := plain.Net.Forward(x, ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := x
	blocks := 0
	var walk func(l nn.Layer)
	walk = func(l nn.Layer) {
		switch b := l.(type) {
		case *nn.Residual:
			blocks++
			y, _, err := b.Body.Forward(h, ctx)
			if err != nil {
				t.Fatal(err)
			}
			if y, _, err = b.After.Forward(y, ctx); err != nil {
				t.Fatal(err)
			}
			h = y
		case *nn.Chain:
			for _, c := range b.Layers {
				walk(c)
			}
		default:
			y, _, err := l.Forward(h, ctx)
			if err != nil {
				t.Fatal(err)
			}
			h = y
		}
	}
	for _, l := range res.Net.Layers {
		walk(l)
	}
	if blocks != 9 {
		t.Fatalf("walked %d residual blocks of ResNet-20, want 9", blocks)
	}
	if d := maxDiff(tr.Output().Data, h.Data); d > 1e-5 {
		t.Errorf("plain network's logits differ from relu(body(x)) block by block by %g", d)
	}
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return 1e30
	}
	d := 0.0
	for i := range a {
		d = max(d, float64(abs32(a[i]-b[i])))
	}
	return d
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// VGG-small without batch norm loses exactly the norms' tensors.
func TestVariantNoBatchNorm(t *testing.T) {
	m, with := stateOf(t, "vgg_small", "", 1)
	bare, without := stateOf(t, "vgg_small", "no-bn", 1)
	bns := countType(m.Net.Layers, "BatchNorm2d")
	if bns == 0 || countType(bare.Net.Layers, "BatchNorm2d") != 0 {
		t.Fatalf("%d norms in vgg_small, %d left in the variant", bns, countType(bare.Net.Layers, "BatchNorm2d"))
	}
	// Each BatchNorm2d holds weight, bias, running_mean and running_var.
	if len(with)-len(without) != 4*bns {
		t.Errorf("%d tensors dropped for %d norms", len(with)-len(without), bns)
	}
	for k := range without {
		if with[k] == nil {
			t.Errorf("new tensor %s", k)
		}
	}
}

// Figure 6's experiment on AlexNet-small: 11x11 stride-4 first filters
// (padding 5) with the first pooling dropped: 28 -> 7, conv2 keeps 7, the
// pool gives 3, the last pool 1, so the classifier reads 64 features.
func TestVariantFirstLayerGeometry(t *testing.T) {
	m, _ := stateOf(t, "alexnet_small", "features.0=11x11/4,-features.2", 1)
	s, err := Summarize(m)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{"features.0": {32, 7, 7}, "features.3": {64, 7, 7}, "features.5": {64, 3, 3}, "features.12": {64, 1, 1}}
	for _, l := range s.Layers {
		if w, ok := want[l.Name]; ok {
			if !nn.SameShape(l.Output, w) {
				t.Errorf("%s: %v, want %v", l.Name, l.Output, w)
			}
			delete(want, l.Name)
		}
		if l.Name == "features.2" {
			t.Errorf("features.2 still there")
		}
	}
	if len(want) != 0 {
		t.Errorf("rows missing: %v", want)
	}
	st := m.Net.State()
	if w := st["features.0.weight"]; !nn.SameShape(w.Shape, []int{32, 1, 11, 11}) {
		t.Errorf("first filters %v", w.Shape)
	}
	if w := st["classifier.1.weight"]; !nn.SameShape(w.Shape, []int{512, 64}) {
		t.Errorf("first linear layer %v, want [512 64]", w.Shape)
	}
	// Without dropping the pool the maps vanish: a clear error, not a panic.
	if _, err := BuildVariant("alexnet_small", "features.0=11x11/4", nil, 0, 1); err == nil {
		t.Error("11x11/4 with every pooling layer kept built")
	}
}

func TestVariantErrorsNameWhatIsMissing(t *testing.T) {
	for variant, want := range map[string]string{
		"no-bn":                "no BatchNorm2d",
		"no-shortcut":          "no residual block",
		"-features.99":         "no layer features.99",
		"features.1=3x3/1":     "no convolution features.1",
		"classifier.1=3x3/1/1": "no convolution classifier.1",
	} {
		_, err := BuildVariant("lenet5", variant, nil, 0, 1)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", variant, err, want)
		}
	}
}

// A variant's checkpoint rebuilds the variant, and the same seed gives the
// same weights.
func TestVariantCheckpointRoundTrip(t *testing.T) {
	m, st := stateOf(t, "zfnet_small", "no-lrn,features.0=5x5/1", 3)
	_, again := stateOf(t, "zfnet_small", "no-lrn, features.0=5x5/1/2", 3)
	for k, v := range st {
		if maxDiff(v.Data, again[k].Data) != 0 {
			t.Fatalf("%s: the same variant and seed gave other weights", k)
		}
	}
	b, err := EncodeCheckpoint(m, map[string]string{MetaVariant: "stale"})
	if err != nil {
		t.Fatal(err)
	}
	back, meta, err := DecodeCheckpoint(b, "")
	if err != nil {
		t.Fatal(err)
	}
	if back.Variant != "no-lrn,features.0=5x5/1/2" || meta[MetaVariant] != back.Variant {
		t.Errorf("variant read back as %q (metadata %q)", back.Variant, meta[MetaVariant])
	}
	if countType(back.Net.Layers, "LocalResponseNorm") != 0 {
		t.Error("the rebuilt model has LRN layers")
	}
	if w := back.Net.State()["features.0.weight"]; !nn.SameShape(w.Shape, []int{32, 1, 5, 5}) {
		t.Errorf("first filters %v", w.Shape)
	}
	// Hostile metadata: a variant that does not parse is refused.
	meta2 := map[string]string{MetaVariant: "features.0=99x99/1"}
	plain, _ := Build("zfnet_small", nil, 0, 1)
	b, _ = nn.EncodeSafetensors(plain.Net.State(), map[string]string{MetaModel: "zfnet_small", MetaVariant: meta2[MetaVariant]})
	if _, _, err := DecodeCheckpoint(b, ""); err == nil {
		t.Error("a hostile variant in the metadata was accepted")
	}
}
