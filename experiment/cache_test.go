package experiment

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/convscope/convscope/zoo"
)

// A scan saved is the scan loaded under its key, and under no other; the
// weights' hash changes with any value.
func TestScanCache(t *testing.T) {
	m, err := zoo.Build("lenet5", nil, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	h := WeightsHash(m.Net)
	key := ScanKey{Weights: h, Dataset: "fashion-mnist", Split: "test", Layer: "c3", K: 9, Images: 10000}
	dir := t.TempDir()
	if _, ok := LoadScan(dir, key); ok {
		t.Fatal("a scan in an empty directory")
	}
	r := &TopK{Layer: "c3", K: 9, Images: 10000, Channels: []ChannelTop{{Channel: 0, Top: []Hit{{Index: 5, Y: 1, X: 2, Activation: 3.5}}}}}
	if err := SaveScan(dir, key, r); err != nil {
		t.Fatal(err)
	}
	got, ok := LoadScan(dir, key)
	if !ok || got.Channels[0].Top[0] != r.Channels[0].Top[0] {
		t.Fatalf("loaded %+v, %v", got, ok)
	}
	other := key
	other.Split = "train"
	if _, ok := LoadScan(dir, other); ok {
		t.Error("the test split's scan answered for the training split")
	}
	// A file cut short is no scan.
	if err := os.WriteFile(filepath.Join(dir, key.File()), []byte(`{"weights":`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := LoadScan(dir, key); ok {
		t.Error("a truncated file loaded")
	}
	m.Net.Params()[0].Value.Data[0] += 1e-3
	if WeightsHash(m.Net) == h {
		t.Error("the hash did not change with a weight")
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".topk-*")); len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}
