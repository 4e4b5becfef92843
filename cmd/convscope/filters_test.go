package main

import (
	"encoding/json"
	"testing"

	"github.com/convscope/convscope/data"
)

// filters' JSON: the first layer's filters by default, with their
// high-frequency fraction, and dead ones judged on the test images asked
// for.
func TestFiltersJSON(t *testing.T) {
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
	out, err := run(t, "filters", "-weights", "../../weights/zfnet-small-fashion-mnist.safetensors", "-data", "fashion-mnist", "-sample", "200", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Layer   string
		Shape   []int
		Sampled int
		Filters []struct {
			Index         int
			HighFrequency float64
			Dead          bool
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Layer != "features.0" || len(r.Filters) != r.Shape[0] || r.Shape[2] != 3 || r.Sampled != 200 {
		t.Fatalf("layer %q shape %v, %d filters, %d sampled", r.Layer, r.Shape, len(r.Filters), r.Sampled)
	}
	for i, f := range r.Filters {
		if f.Index != i || f.HighFrequency < 0 || f.HighFrequency > 1 {
			t.Errorf("filter %d: %+v", i, f)
		}
	}
	if _, err := run(t, "filters", "-model", "lenet5", "-layer", "s2", "-json"); err == nil {
		t.Error("a pooling layer's filters")
	}
}
