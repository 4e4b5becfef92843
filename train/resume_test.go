package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// A run killed in the middle (here: its context cancelled, which saves the
// state as a periodic checkpoint would have) and resumed from its
// checkpoint ends with bit-identical weights and the same loss curve as an
// uninterrupted run.
func TestKillAndResumeIsBitForBit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		every time.Duration
		cfg   Config
	}{
		{"sgd, killed in epoch 1, saved on cancel", 0, Config{Optimizer: "sgd", Momentum: 0.9, WeightDecay: 5e-4}},
		{"adamw warm-up, checkpoint after every step, killed in epoch 2", time.Nanosecond,
			Config{Optimizer: "adamw", WeightDecay: 0.05, Schedule: "warmup-cosine", WarmupEpochs: 1, LabelSmoothing: 0.1, ClipNorm: 1}},
		{"adamw with a moving average of the weights, killed in epoch 1", 0, Config{Optimizer: "adamw", WeightDecay: 0.05, EMA: 0.99}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Epochs, cfg.BatchSize, cfg.LR, cfg.Seed = 2, 16, 0.01, 11
			train, test := blobs(256, 1), blobs(64, 2)

			whole, _ := zoo.Build("lenet5", nil, 2, 5)
			want, err := Fit(context.Background(), whole, train, test, cfg)
			if err != nil {
				t.Fatal(err)
			}

			state := filepath.Join(t.TempDir(), "run.safetensors")
			cfg.Checkpoint, cfg.CheckpointEvery = state, tc.every
			killAt := 1
			if tc.every > 0 {
				killAt = 2
			}
			ctx, kill := context.WithCancel(context.Background())
			cut := cfg
			cut.OnEvent = func(e Event) {
				if e.Phase == "train" && e.Epoch == killAt && e.Step >= 10 {
					kill()
				}
			}
			first, _ := zoo.Build("lenet5", nil, 2, 5)
			if _, err := Fit(ctx, first, train, test, cut); !errors.Is(err, context.Canceled) {
				t.Fatalf("killed run: %v", err)
			}

			cfg.Resume = true
			second, _ := zoo.Build("lenet5", nil, 2, 99) // other initial weights: all must come from the checkpoint
			got, err := Fit(context.Background(), second, train, test, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range second.Net.Params() {
				for j, v := range p.Value.Data {
					if w := whole.Net.Params()[i].Value.Data[j]; v != w {
						t.Fatalf("%s[%d] = %g after resuming, %g uninterrupted", p.Name, j, v, w)
					}
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d epochs reported, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].Loss != want[i].Loss || got[i].TestLoss != want[i].TestLoss || got[i].Accuracy != want[i].Accuracy {
					t.Errorf("epoch %d: loss %v / test %v, uninterrupted %v / %v", i+1, got[i].Loss, got[i].TestLoss, want[i].Loss, want[i].TestLoss)
				}
			}
		})
	}
}

func TestResumeRefusesAnotherRun(t *testing.T) {
	train, test := blobs(64, 1), blobs(32, 2)
	state := filepath.Join(t.TempDir(), "run.safetensors")
	m, _ := zoo.Build("lenet5", nil, 2, 5)
	cfg := Config{Epochs: 1, BatchSize: 16, LR: 0.01, Seed: 1, Checkpoint: state}
	if _, err := Fit(context.Background(), m, train, test, cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Resume, cfg.LR = true, 0.02
	if _, err := Fit(context.Background(), m, train, test, cfg); err == nil {
		t.Error("resumed with another learning rate")
	}
	cfg.LR = 0.01
	other, _ := zoo.Build("lenet5_seed", nil, 2, 5)
	if _, err := Fit(context.Background(), other, train, test, cfg); err == nil {
		t.Error("resumed another model's run")
	}
}

// A run killed while writing its checkpoint leaves a temporary file: the
// next run removes it when it starts, before it writes anything, and leaves
// other files alone.
func TestFitRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "run.safetensors")
	stale, young, other := state+".tmp123456", state+".tmp654321", filepath.Join(dir, "notes.tmp1")
	for _, f := range []string{stale, young, other} {
		if err := os.WriteFile(f, []byte("half a checkpoint"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * nn.StaleTempAge)
	os.Chtimes(stale, old, old)
	os.Chtimes(other, old, old)
	m, _ := zoo.Build("lenet5", nil, 2, 5)
	// Resuming from a checkpoint that is not there fails at the start,
	// before any write could tidy: only the start's tidying runs.
	cfg := Config{Epochs: 1, BatchSize: 16, LR: 0.01, Seed: 1, Checkpoint: state, Resume: true}
	if _, err := Fit(context.Background(), m, blobs(64, 1), blobs(32, 2), cfg); err == nil {
		t.Fatal("resumed from a missing checkpoint")
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale temporary file is still there (%v)", err)
	}
	for _, f := range []string{young, other} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(f), err)
		}
	}
}
