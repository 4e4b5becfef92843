package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// weightsOf copies a model's state_dict.
func weightsOf(m *zoo.Model) map[string][]float32 {
	out := map[string][]float32{}
	for k, v := range m.Net.State() {
		out[k] = slices.Clone(v.Data)
	}
	return out
}

// sameWeights reports the first tensor of want that m's differs in.
func sameWeights(t *testing.T, what string, m *zoo.Model, want map[string][]float32) {
	t.Helper()
	got := m.Net.State()
	if len(got) != len(want) {
		t.Fatalf("%s: %d tensors, want %d", what, len(got), len(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Fatalf("%s: no tensor %s", what, k)
		}
		if !slices.Equal(g.Data, w) {
			t.Fatalf("%s: %s differs from the weights Fit had", what, k)
		}
	}
}

// A 3-epoch run with SnapshotEpochs {1,3} writes exactly epoch-001 and
// epoch-003, convscope checkpoints that card.Load reads back with the
// weights the model had after those epochs (captured in OnEpoch) and the
// metadata given, with the epoch's figures.
func TestFitWritesSnapshots(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "snaps") // Fit creates it
	m, err := zoo.Build("lenet5", nil, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	at := map[int]map[string][]float32{}
	acc := map[int]float64{}
	_, err = Fit(context.Background(), m, blobs(96, 1), blobs(32, 2), Config{
		Epochs: 3, BatchSize: 16, LR: 0.02, Momentum: 0.9, Seed: 3,
		SnapshotDir: dir, SnapshotEpochs: []int{1, 3},
		SnapshotMeta: map[string]string{zoo.MetaDataset: "fashion-mnist", zoo.MetaMean: "0.5", zoo.MetaStd: "0.25", "command": "test"},
		OnEpoch: func(r EpochResult, _ Evaluation) error {
			at[r.Epoch], acc[r.Epoch] = weightsOf(m), r.TestAccuracy
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"epoch-001.safetensors", "epoch-003.safetensors"}; !slices.Equal(names, want) {
		t.Fatalf("snapshot directory holds %v, want %v", names, want)
	}
	if slices.Equal(at[1]["c1.weight"], at[3]["c1.weight"]) {
		t.Fatal("the weights did not change between epochs 1 and 3: the test cannot tell snapshots apart")
	}
	for _, tc := range []struct {
		epoch        int
		file, epochs string
	}{{1, "epoch-001.safetensors", "1"}, {3, "epoch-003.safetensors", "3"}} {
		path := filepath.Join(dir, tc.file)
		got, c, err := card.Load("", path, 0)
		if err != nil {
			t.Fatal(err)
		}
		sameWeights(t, tc.file, got, at[tc.epoch])
		if got.Name != "lenet5" || got.Classes != 2 || c.Dataset != "fashion-mnist" || !c.Trained ||
			!slices.Equal(c.Pre.Mean, []float32{0.5}) || !slices.Equal(c.Pre.Std, []float32{0.25}) {
			t.Errorf("%s: model %s with %d classes, card %+v", tc.file, got.Name, got.Classes, c)
		}
		_, meta, err := nn.LoadSafetensors(path)
		if err != nil {
			t.Fatal(err)
		}
		if meta[MetaEpoch] != tc.epochs || meta[zoo.MetaEpochs] != tc.epochs || meta["command"] != "test" ||
			meta[zoo.MetaTestAccuracy] != strconv.FormatFloat(acc[tc.epoch], 'f', 4, 64) {
			t.Errorf("%s: metadata %v (test accuracy %.4f)", tc.file, meta, acc[tc.epoch])
		}
	}
}

// A run killed in epoch 2 and resumed does not write epoch-001 again, and
// writes epoch-002 and epoch-003 with the weights an uninterrupted run has.
func TestResumedRunKeepsEarlierSnapshots(t *testing.T) {
	train, test := blobs(320, 1), blobs(32, 2) // 20 steps an epoch
	cfg := Config{Epochs: 3, BatchSize: 16, LR: 0.02, Momentum: 0.9, Seed: 3}

	whole, _ := zoo.Build("lenet5", nil, 2, 1)
	at := map[int]map[string][]float32{}
	uncut := cfg
	uncut.OnEpoch = func(r EpochResult, _ Evaluation) error { at[r.Epoch] = weightsOf(whole); return nil }
	if _, err := Fit(context.Background(), whole, train, test, uncut); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	cfg.SnapshotDir, cfg.Checkpoint = dir, filepath.Join(dir, "run.state")
	ctx, kill := context.WithCancel(context.Background())
	cut := cfg
	cut.OnEvent = func(e Event) {
		if e.Phase == "train" && e.Epoch == 2 && e.Step == 10 {
			kill()
		}
	}
	first, _ := zoo.Build("lenet5", nil, 2, 1)
	if _, err := Fit(ctx, first, train, test, cut); !errors.Is(err, context.Canceled) {
		t.Fatalf("killed run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "epoch-002.safetensors")); !os.IsNotExist(err) {
		t.Fatalf("epoch-002 exists before epoch 2 ended (%v)", err)
	}
	one := filepath.Join(dir, "epoch-001.safetensors")
	if _, _, err := card.Load("", one, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(one, []byte("marker: must not be rewritten"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Resume = true
	second, _ := zoo.Build("lenet5", nil, 2, 99)
	if _, err := Fit(context.Background(), second, train, test, cfg); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(one); err != nil || string(b) != "marker: must not be rewritten" {
		t.Errorf("the resumed run rewrote epoch-001 (%v)", err)
	}
	for _, e := range []int{2, 3} {
		got, _, err := card.Load("", filepath.Join(dir, SnapshotName(e)), 0)
		if err != nil {
			t.Fatal(err)
		}
		sameWeights(t, SnapshotName(e), got, at[e])
	}
}

func TestSnapshotSettingsRejected(t *testing.T) {
	m, _ := zoo.Build("lenet5", nil, 2, 1)
	for _, cfg := range []Config{
		{SnapshotEpochs: []int{1}},
		{SnapshotDir: t.TempDir(), SnapshotEpochs: []int{0}},
		{SnapshotDir: t.TempDir(), SnapshotEpochs: []int{1, 3}},
	} {
		cfg.Epochs, cfg.BatchSize = 2, 16
		if _, err := Fit(context.Background(), m, blobs(32, 1), blobs(16, 2), cfg); err == nil {
			t.Errorf("snapshots %q %v accepted for a 2-epoch run", cfg.SnapshotDir, cfg.SnapshotEpochs)
		} else {
			t.Log(err)
		}
	}
}
