package train

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// The average follows avg = d·avg + (1−d)·value with d = min(decay,
// (1+n)/(10+n)), worked out here by hand for three updates of one weight.
func TestEMAFollowsItsFormula(t *testing.T) {
	m, _ := zoo.Build("lenet5", nil, 2, 1)
	e := newEMA(m.Net, 0.2)
	w := m.Net.Params()[0].Value
	w.Data[0] = 1 // the average starts from the model: 1
	e.avg[0].Data[0] = 1
	for _, c := range []struct{ value, want float64 }{
		{3, 0.1*1 + 0.9*3},                   // n=0: d = min(0.2, 1/10) = 0.1; 2.8
		{-1, 2.0/11*2.8 + 9.0/11*-1},         // n=1: d = min(0.2, 2/11); -0.30909
		{5, 0.2*(2.0/11*2.8-9.0/11) + 0.8*5}, // n=2: d = min(0.2, 3/12) = 0.2; 3.93818
	} {
		w.Data[0] = float32(c.value)
		e.update()
		if got := float64(e.avg[0].Data[0]); math.Abs(got-c.want) > 1e-5 {
			t.Errorf("after %d updates the average is %g, want %g", e.n, got, c.want)
		}
	}
	e.swap()
	if math.Abs(float64(w.Data[0])-3.93818) > 1e-4 || e.avg[0].Data[0] != 5 {
		t.Errorf("after a swap the model holds %g and the average's place %g, want the average and the trained 5", w.Data[0], e.avg[0].Data[0])
	}
}

// With an average, the weights keep training exactly as without one (the
// run's state holds them bit for bit), while the model Fit leaves, its
// test figures and its snapshots are the average's.
func TestEMAIsTheRunsModel(t *testing.T) {
	train, test := blobs(256, 1), blobs(64, 2)
	cfg := Config{Epochs: 2, BatchSize: 16, LR: 0.01, Optimizer: "adamw", WeightDecay: 0.05, Seed: 7}
	plain, _ := zoo.Build("lenet5", nil, 2, 5)
	if _, err := Fit(context.Background(), plain, train, test, cfg); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	cfg.EMA, cfg.Checkpoint = 0.95, filepath.Join(dir, "run.state")
	cfg.SnapshotDir = dir
	averaged, _ := zoo.Build("lenet5", nil, 2, 5)
	res, err := Fit(context.Background(), averaged, train, test, cfg)
	if err != nil {
		t.Fatal(err)
	}
	state, _, err := nn.LoadSafetensors(cfg.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	var differ int
	mineAll := averaged.Net.State()
	for _, p := range plain.Net.Params() {
		trained, avg := state["model."+p.Name], state["ema."+p.Name]
		if trained == nil || avg == nil {
			t.Fatalf("the state lacks %s or its average", p.Name)
		}
		mine := mineAll[p.Name]
		for j, v := range p.Value.Data {
			if trained.Data[j] != v {
				t.Fatalf("%s[%d]: trained %g beside an average, %g without", p.Name, j, trained.Data[j], v)
			}
			if mine.Data[j] != avg.Data[j] {
				t.Fatalf("%s[%d]: the model Fit left holds %g, the average is %g", p.Name, j, mine.Data[j], avg.Data[j])
			}
			if mine.Data[j] != v {
				differ++
			}
		}
	}
	if differ == 0 {
		t.Fatal("the average equals the trained weights")
	}
	ev, err := Evaluate(averaged, test, 256)
	if err != nil || ev.Loss != res[1].TestLoss {
		t.Errorf("the average's test loss %v (%v), Fit reported %v", ev.Loss, err, res[1].TestLoss)
	}
	snap, _, err := nn.LoadSafetensors(filepath.Join(dir, SnapshotName(2)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plain.Net.Params() {
		v, a := snap[p.Name], state["ema."+p.Name]
		if v == nil {
			t.Fatalf("the snapshot has no %s (keys like %v)", p.Name, len(snap))
		}
		for j := range v.Data {
			if v.Data[j] != a.Data[j] {
				t.Fatalf("snapshot's %s[%d] = %g, the average %g", p.Name, j, v.Data[j], a.Data[j])
			}
		}
	}
}

func TestEMARefusesADecayOutOfRange(t *testing.T) {
	m, _ := zoo.Build("lenet5", nil, 2, 5)
	for _, d := range []float32{-0.1, 1, 1.5} {
		if _, err := Fit(context.Background(), m, blobs(32, 1), blobs(16, 2), Config{Epochs: 1, BatchSize: 16, LR: 0.01, EMA: d}); err == nil {
			t.Errorf("EMA decay %g accepted", d)
		}
	}
}
