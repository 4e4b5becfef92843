package zoo

import (
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
)

func TestCheckpointRoundTrip(t *testing.T) {
	m, err := Build("lenet5", []int{1, 32, 32}, 7, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncodeCheckpoint(m, map[string]string{MetaMean: "0.5", MetaStd: "0.25"})
	if err != nil {
		t.Fatal(err)
	}
	back, meta, err := DecodeCheckpoint(b, "")
	if err != nil {
		t.Fatal(err)
	}
	if !nn.SameShape(back.Input, []int{1, 32, 32}) || back.Classes != 7 {
		t.Fatalf("rebuilt %v with %d classes", back.Input, back.Classes)
	}
	for i, p := range back.Net.Params() {
		if maxRelDiff(p.Value.Data, m.Net.Params()[i].Value.Data) != 0 {
			t.Fatalf("%s differs after a round trip", p.Name)
		}
	}
	pre, err := PreprocessOf(meta, 1)
	if err != nil || pre.Mean[0] != 0.5 || pre.Std[0] != 0.25 {
		t.Errorf("preprocess %+v, %v", pre, err)
	}
	if _, _, err := DecodeCheckpoint(b, "lenet5_seed"); err == nil {
		t.Error("a lenet5 checkpoint loaded as lenet5_seed")
	}
}

func TestCheckpointWrongShapeListsKeys(t *testing.T) {
	m, _ := Build("lenet5", nil, 10, 1)
	state := m.Net.State()
	state["c1.weight"] = nn.New(6, 1, 3, 3)
	delete(state, "out.bias")
	state["extra.weight"] = nn.New(1)
	b, _ := nn.EncodeSafetensors(state, map[string]string{MetaModel: "lenet5"})
	_, _, err := DecodeCheckpoint(b, "")
	if err == nil {
		t.Fatal("a broken checkpoint loaded")
	}
	for _, want := range []string{"c1.weight has shape [6, 1, 3, 3], want [6, 1, 5, 5]", "missing out.bias", "unexpected extra.weight"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, _, err := DecodeCheckpoint(b[:len(b)-10], ""); err == nil {
		t.Error("a truncated checkpoint loaded")
	}
}
