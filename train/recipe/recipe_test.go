package recipe

import (
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/convscope/convscope/data"
)

// Default gives the recipes tools/results/train_all.sh trains the
// embedded checkpoints with: every flag of each model's line there is in
// the recipe's command.
func TestDefaultsAreTrainAll(t *testing.T) {
	b, err := os.ReadFile("../../tools/results/train_all.sh")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`"([a-z0-9_]+)\|(\d+)\|([^"]*)"`)
	n := 0
	for _, m := range line.FindAllStringSubmatch(string(b), -1) {
		model, epochs, flags := m[1], m[2], strings.Fields(m[3])
		if model == "lenet5_seed" {
			continue // a second LeNet-5 recipe, the seed's
		}
		n++
		cmd := Default(model).Command("x")
		got := map[string]string{}
		words := strings.Fields(cmd)
		for i := 2; i+1 < len(words); i++ {
			if strings.HasPrefix(words[i], "-") {
				got[words[i]] = words[i+1]
			}
		}
		same := func(a, b string) bool {
			x, errx := strconv.ParseFloat(a, 64)
			y, erry := strconv.ParseFloat(b, 64)
			return a == b || errx == nil && erry == nil && x == y
		}
		if !same(got["-epochs"], epochs) {
			t.Errorf("%s: %q, want -epochs %s", model, cmd, epochs)
		}
		for i := 0; i+1 < len(flags); i += 2 {
			if !same(got[flags[i]], flags[i+1]) {
				t.Errorf("%s: %q, want %s %s", model, cmd, flags[i], flags[i+1])
			}
		}
	}
	if n < 10 {
		t.Errorf("read %d recipes from train_all.sh", n)
	}
}

// A recipe is checked before any work, with a sentence per problem.
func TestRecipeCheck(t *testing.T) {
	good := Default("lenet5")
	if err := good.Check(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		change func(*Recipe)
		want   string
	}{
		{func(r *Recipe) { r.Epochs = 0 }, "0 epochs"},
		{func(r *Recipe) { r.LR = -1 }, "learning rate -1"},
		{func(r *Recipe) { r.Optimizer = "adam" }, `optimizer "adam"`},
		{func(r *Recipe) { r.Model = "lenet6" }, "lenet6"},
		{func(r *Recipe) { r.Augment = "mixup" }, `augmentation "mixup"`},
		{func(r *Recipe) { r.Schedule = "step" }, `schedule "step"`},
		{func(r *Recipe) { r.Augment, r.CropPadding = "crop-flip", 17 }, "crop padding 17"},
		{func(r *Recipe) { r.Augment, r.CropPadding = "flip", 2 }, "without crop-flip"},
		{func(r *Recipe) { r.EMA = 1 }, "EMA decay 1"},
		{func(r *Recipe) { r.EMA = -0.5 }, "EMA decay -0.5"},
		{func(r *Recipe) { r.Erase = 1.5 }, "erasing probability 1.5"},
		{func(r *Recipe) { r.Erase = math.NaN() }, "erasing probability NaN"},
	} {
		r := good
		c.change(&r)
		if err := r.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", r, err, c.want)
		}
	}
}

// Prepare builds the model for the dataset's pictures and classes, and
// limits the training images.
func TestRecipePrepare(t *testing.T) {
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
	r := Default("lenet5")
	r.Limit = 300
	p, err := r.Prepare("")
	if err != nil {
		t.Fatal(err)
	}
	if p.Train.Len() != 300 || p.Test.Len() != 10000 || p.Model.Classes != 10 || len(p.Classes) != 10 || p.Meta["dataset"] != "fashion-mnist" {
		t.Errorf("train %d, test %d, %d classes, meta %v", p.Train.Len(), p.Test.Len(), p.Model.Classes, p.Meta)
	}
}

// Random erasing follows the other augmentations and normalisation: each
// training picture is the plain one but for a box set to 0.
func TestRecipePrepareErases(t *testing.T) {
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
	r := Default("lenet5")
	r.Limit = 40
	plain, err := r.Prepare("")
	if err != nil {
		t.Fatal(err)
	}
	r.Erase = 1
	erased, err := r.Prepare("")
	if err != nil {
		t.Fatal(err)
	}
	const h, w = 28, 28
	a, b := make([]float32, h*w), make([]float32, h*w)
	boxes := 0
	for i := range r.Limit {
		if la, lb := plain.Train.Fill(i, a), erased.Train.Fill(i, b); la != lb {
			t.Fatalf("picture %d: label %d, erased %d", i, la, lb)
		}
		top, left, bottom, right := h, w, -1, -1
		for p := range a {
			if a[p] != b[p] {
				y, x := p/w, p%w
				top, left, bottom, right = min(top, y), min(left, x), max(bottom, y), max(right, x)
			}
		}
		if bottom < 0 {
			continue
		}
		boxes++
		for y := top; y <= bottom; y++ {
			for x := left; x <= right; x++ {
				if b[y*w+x] != 0 {
					t.Fatalf("picture %d: (%d,%d) inside the erased box [%d..%d]x[%d..%d] is %g", i, y, x, top, bottom, left, right, b[y*w+x])
				}
			}
		}
		if area := (bottom - top + 1) * (right - left + 1); area > h*w/3+h {
			t.Errorf("picture %d: erased %d pixels, more than a third", i, area)
		}
	}
	if boxes < r.Limit*3/4 {
		t.Errorf("%d of %d pictures erased at probability 1", boxes, r.Limit)
	}
}

func TestVariantsSuggestWhatTheLayersAllow(t *testing.T) {
	for model, want := range map[string][]string{
		"resnet20":      {"no-bn", "no-shortcut"},
		"vgg_small":     {"no-bn", "no-dropout"},
		"zfnet_small":   {"no-lrn", "no-dropout"},
		"alexnet_small": {"features.0=11x11/4/5,-features.2", "features.0=7x7/2/3,-features.2", "no-dropout"},
		"lenet5":        nil,
	} {
		if got := Variants(model); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", model, got, want)
		}
	}
}

func TestCommandCarriesTheVariant(t *testing.T) {
	r := Default("resnet20")
	r.Variant = " no-shortcut "
	if c := r.Command("x.safetensors"); !strings.Contains(c, "-model resnet20 -variant no-shortcut -data") {
		t.Errorf("command %q", c)
	}
	r.Variant, r.CropPadding = "", 2
	if c := r.Command("x.safetensors"); !strings.Contains(c, "-augment crop-flip -crop-padding 2 ") {
		t.Errorf("command %q has no crop padding", c)
	}
	r.EMA = 0.9995
	if c := r.Command("x.safetensors"); !strings.Contains(c, " -ema 0.9995") {
		t.Errorf("command %q has no average of the weights", c)
	}
	if cfg := r.Config(); cfg.EMA != float32(0.9995) {
		t.Errorf("the run's config has EMA %g", cfg.EMA)
	}
	r.Erase = 0.25
	if c := r.Command("x.safetensors"); !strings.Contains(c, " -erase 0.25 ") {
		t.Errorf("command %q has no random erasing", c)
	}
	r.Variant = "no-bm"
	if err := r.Check(); err == nil {
		t.Error("a misspelt change passed the check")
	}
}

func TestParseEpochs(t *testing.T) {
	got, err := ParseEpochs(" 5,1, 2,5 ", 15)
	if err != nil || !slices.Equal(got, []int{1, 2, 5}) {
		t.Errorf("got %v, %v", got, err)
	}
	if got, err := ParseEpochs("", 3); err != nil || got != nil {
		t.Errorf("empty: %v, %v", got, err)
	}
	for _, bad := range []string{"0", "16", "1,x", "1,,2"} {
		if _, err := ParseEpochs(bad, 15); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
