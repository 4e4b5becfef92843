package zoo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lenet5.pth is torch.save(LeNet5().state_dict()) with the fixture's seed:
// the .pth reader must give exactly the tensors the safetensors fixture holds.
func TestReadPthMatchesSafetensors(t *testing.T) {
	pth, err := ReadStateDict("testdata/lenet5.pth")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := ReadStateDict("testdata/lenet5_parity.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if len(pth) != 10 {
		t.Errorf("%d tensors in lenet5.pth, want 10", len(pth))
	}
	for k, v := range pth {
		if d := maxRelDiff(v.Data, ref[k].Data); d != 0 || len(v.Shape) != len(ref[k].Shape) {
			t.Errorf("%s differs from the fixture (%g)", k, d)
		}
	}
	m, _ := Build("lenet5", nil, 10, 1)
	if err := LoadWeights(m, "testdata/lenet5.pth"); err != nil {
		t.Fatal(err)
	}
}

// layouts.pth holds a transposed view, an offset slice, an int64 scalar and
// float64 values: strides, offsets and dtypes must all be honoured.
func TestReadPthLayouts(t *testing.T) {
	s, err := ReadStateDict("testdata/layouts.pth")
	if err != nil {
		t.Fatal(err)
	}
	tr := s["transposed"] // arange(12).reshape(3,4).t(): row i is i, i+4, i+8
	if len(tr.Shape) != 2 || tr.Shape[0] != 4 || tr.Data[1] != 4 || tr.Data[5] != 9 || tr.Data[11] != 11 {
		t.Errorf("transposed %v %v", tr.Shape, tr.Data)
	}
	if o := s["offset"].Data; len(o) != 4 || o[0] != 3 || o[3] != 6 {
		t.Errorf("offset slice %v", o)
	}
	if l := s["long"]; len(l.Data) != 1 || l.Data[0] != 5 {
		t.Errorf("int64 scalar %v", l)
	}
	if d := s["double"].Data; d[0] != 0.5 || d[1] != -1.25 {
		t.Errorf("float64 %v", d)
	}
}

func TestReadStateDictErrors(t *testing.T) {
	dir := t.TempDir()
	b, _ := os.ReadFile("testdata/lenet5.pth")
	cut := filepath.Join(dir, "cut.pth")
	os.WriteFile(cut, b[:len(b)/2], 0o644)
	junk := filepath.Join(dir, "junk.pth")
	os.WriteFile(junk, []byte("not a checkpoint at all"), 0o644)
	for _, p := range []string{cut, junk, filepath.Join(dir, "missing.pth")} {
		if _, err := ReadStateDict(p); err == nil {
			t.Errorf("%s read without error", filepath.Base(p))
		}
	}
	m, _ := Build("lenet5_seed", nil, 10, 1)
	err := LoadWeights(m, "testdata/lenet5.pth")
	if err == nil || !strings.Contains(err.Error(), "missing conv1.weight") || !strings.Contains(err.Error(), "unexpected c1.weight") {
		t.Errorf("loading lenet5 weights into lenet5_seed: %v", err)
	}
}
