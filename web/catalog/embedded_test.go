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
	for _, name := range append(small[1:], small[0]) {
		if _, err := c.Open(name); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	kept := len(c.loaded)
	c.mu.Unlock()
	if kept != 1+keepUntrained {
		t.Errorf("%d models in memory, want the default and %d untrained", kept, keepUntrained)
	}
	if again, _ := c.Open(""); again != def {
		t.Error("the trained default was evicted")
	}
	if e, err := c.Lookup("vgg16"); err != nil || e.Trained || len(e.Classes) != 1000 || e.Dataset != "imagenet" {
		t.Errorf("vgg16 entry %+v, %v", e, err)
	}
}
