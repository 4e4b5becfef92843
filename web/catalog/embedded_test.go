package catalog

import "testing"

func TestEmbeddedOpensTheDefault(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Open("")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Trained || m.Name != "lenet5-fashion-mnist" || m.TestAccuracy < 0.89 || len(m.Classes) != 10 || m.Summary.Params != 61706 {
		t.Errorf("default model %+v", m.Entry)
	}
}

// Untrained zoo models are built on demand and at most keepUntrained stay
// in memory; the trained default is never evicted.
func TestZooEntriesAreBoundedInMemory(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	c.AddZoo()
	def, _ := c.Open("")
	// Three small untrained models (which ones depends on what is trained).
	var small []string
	for _, e := range c.Entries() {
		if !e.Trained && e.Input[1] <= 32 && len(small) < 3 {
			small = append(small, e.Name)
		}
	}
	first, err := c.Open(small[0])
	if err != nil {
		t.Fatal(err)
	}
	if first.Trained || first.Net.Name != small[0] || len(first.Classes) != 10 {
		t.Fatalf("%s entry %+v", small[0], first.Entry)
	}
	c.Release(first)
	for _, name := range append(small[1:], small[0]) {
		m, err := c.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		c.Release(m)
	}
	if kept := c.Loaded(); len(kept) != 1+keepUntrained {
		t.Errorf("models in memory %q, want the default and %d untrained", kept, keepUntrained)
	}
	if again, _ := c.Open(""); again != def {
		t.Error("the trained default was evicted")
	}
	if e, err := c.Lookup("vgg16"); err != nil || e.Trained || len(e.Classes) != 1000 || e.Dataset != "imagenet" {
		t.Errorf("vgg16 entry %+v, %v", e, err)
	}
}

// The zoo's entries are labelled by their shape: ImageNet for the big ones,
// Fashion-MNIST for one-channel small forms, nothing for the CIFAR-shaped.
func TestZooEntriesDatasets(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	c.AddZoo()
	for _, tc := range []struct {
		name, dataset, class0, class9 string
		inverts                       bool
	}{
		{"resnet44", "", "class 0", "class 9", false},
		{"resnet56", "", "class 0", "class 9", false},
		{"resnet20_b", "", "class 0", "class 9", false},
		{"resnet56_b", "", "class 0", "class 9", false},
		{"lenet5_1998", "fashion-mnist", "T-shirt/top", "Ankle boot", true},
		{"lenet5-fashion-mnist", "fashion-mnist", "T-shirt/top", "Ankle boot", true},
		{"lenet5-mnist", "mnist", "0", "9", true},
		{"vgg16", "imagenet", "tench", "", false},
	} {
		e, err := c.Lookup(tc.name)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if e.Dataset != tc.dataset || e.Classes[0] != tc.class0 || (tc.class9 != "" && e.Classes[9] != tc.class9) || e.InvertsBrightPictures() != tc.inverts {
			t.Errorf("%s: dataset %q, classes %q..., inverts %v; want %q, %q..%q, %v",
				tc.name, e.Dataset, e.Classes[0], e.InvertsBrightPictures(), tc.dataset, tc.class0, tc.class9, tc.inverts)
		}
	}
	for _, e := range c.Entries() {
		// Standardize panics on a normalisation of another channel count.
		if n := len(e.Pre.Mean); n != 0 && n != 1 && n != e.Input[0] {
			t.Errorf("%s: %d mean values for %d input channels", e.Name, n, e.Input[0])
		}
		if e.Input[0] == 3 && e.Dataset == "fashion-mnist" {
			t.Errorf("%s: a three-channel model borrows Fashion-MNIST", e.Name)
		}
	}
}
