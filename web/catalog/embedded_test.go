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
