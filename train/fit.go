package train

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// Config holds the hyper-parameters of one training run.
type Config struct {
	Epochs, BatchSize         int
	LR, Momentum, WeightDecay float32
	// Cosine decays the learning rate from LR to 0 over the run, per step.
	Cosine bool
	// Seed fixes the shuffling and dropout masks.
	Seed uint64
	// OnEvent, if not nil, receives progress as training goes.
	OnEvent func(Event)
}

// Event reports progress: Phase "train" every few steps, "epoch" at the end
// of an epoch (with the test figures).
type Event struct {
	Phase                  string
	Epoch, Epochs          int
	Step, Steps            int
	Loss, Accuracy         float64 // running means over the epoch so far
	LR                     float64
	ImagesPerSec           float64
	Elapsed, ETA           time.Duration
	TestLoss, TestAccuracy float64
}

// EpochResult is one epoch's summary.
type EpochResult struct {
	Epoch                  int
	Loss, Accuracy         float64
	TestLoss, TestAccuracy float64
	ImagesPerSec           float64
	Elapsed                time.Duration
}

// Fit trains m on trainSet and evaluates on testSet after each epoch.
func Fit(ctx context.Context, m *zoo.Model, trainSet, testSet Source, cfg Config) ([]EpochResult, error) {
	if !nn.SameShape(trainSet.Shape(), m.Input) {
		return nil, fmt.Errorf("train: %s takes %s, the data is %s", m.Name, nn.ShapeString(m.Input), nn.ShapeString(trainSet.Shape()))
	}
	if cfg.BatchSize <= 0 || cfg.Epochs <= 0 {
		return nil, fmt.Errorf("train: batch size %d and epochs %d must be positive", cfg.BatchSize, cfg.Epochs)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7a1))
	opt := nn.NewSGD(cfg.LR, cfg.Momentum, cfg.WeightDecay)
	steps := (trainSet.Len() + cfg.BatchSize - 1) / cfg.BatchSize
	total := steps * cfg.Epochs
	var schedule nn.Schedule
	if cfg.Cosine {
		schedule = nn.CosineLR(cfg.LR, 0, total)
	}
	start := time.Now()
	var results []EpochResult
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		order := rng.Perm(trainSet.Len())
		var lossSum float64
		var correct, seen int
		epochStart := time.Now()
		for s := 0; s < steps; s++ {
			if err := ctx.Err(); err != nil {
				return results, err
			}
			done := (epoch-1)*steps + s
			if schedule != nil {
				opt.SetLR(schedule(done))
			}
			idx := order[s*cfg.BatchSize : min((s+1)*cfg.BatchSize, len(order))]
			x, labels := batch(trainSet, idx)
			loss, hits, err := step(m, x, labels, opt, rng)
			if err != nil {
				return results, err
			}
			lossSum += loss * float64(len(idx))
			correct += hits
			seen += len(idx)
			if cfg.OnEvent != nil && (s%10 == 9 || s == steps-1) {
				el := time.Since(start)
				ips := float64(seen) / time.Since(epochStart).Seconds()
				cfg.OnEvent(Event{Phase: "train", Epoch: epoch, Epochs: cfg.Epochs, Step: s + 1, Steps: steps,
					Loss: lossSum / float64(seen), Accuracy: float64(correct) / float64(seen), LR: float64(opt.LR()),
					ImagesPerSec: ips, Elapsed: el, ETA: time.Duration(float64(el) / float64(done+1) * float64(total-done-1))})
			}
		}
		r := EpochResult{Epoch: epoch, Loss: lossSum / float64(seen), Accuracy: float64(correct) / float64(seen),
			ImagesPerSec: float64(seen) / time.Since(epochStart).Seconds()}
		ev, err := Evaluate(m, testSet, 256)
		if err != nil {
			return results, err
		}
		r.TestLoss, r.TestAccuracy, r.Elapsed = ev.Loss, ev.Accuracy, time.Since(start)
		results = append(results, r)
		if cfg.OnEvent != nil {
			cfg.OnEvent(Event{Phase: "epoch", Epoch: epoch, Epochs: cfg.Epochs, Step: steps, Steps: steps,
				Loss: r.Loss, Accuracy: r.Accuracy, LR: float64(opt.LR()), ImagesPerSec: r.ImagesPerSec,
				Elapsed: r.Elapsed, TestLoss: r.TestLoss, TestAccuracy: r.TestAccuracy})
		}
	}
	return results, nil
}

// step runs forward, cross-entropy (plus the weighted losses of any
// auxiliary heads, as GoogLeNet's), backward and one optimizer update on a
// batch, returning the main loss and the number of correct predictions.
func step(m *zoo.Model, x *nn.Tensor, labels []int, opt nn.Optimizer, rng *rand.Rand) (float64, int, error) {
	tr, err := m.Net.Forward(x, &nn.Context{Train: true, Rand: rng}, nil)
	if err != nil {
		return 0, 0, err
	}
	logits := tr.Output()
	loss, dlogits, err := nn.CrossEntropy(logits, labels)
	if err != nil {
		return 0, 0, err
	}
	for _, aux := range tr.AuxOutputs() {
		_, d, err := nn.CrossEntropy(aux.Logits, labels)
		if err != nil {
			return 0, 0, err
		}
		for i := range d.Data {
			d.Data[i] *= aux.Weight
		}
		aux.SetGradient(d)
	}
	g := nn.Grads{}
	if _, err := m.Net.Backward(tr, len(tr.Steps)-1, dlogits, nn.Gradient, g); err != nil {
		return 0, 0, err
	}
	opt.Step(g)
	return float64(loss), hits(logits, labels), nil
}

func hits(logits *nn.Tensor, labels []int) int {
	k := logits.Shape[1]
	n := 0
	for i, y := range labels {
		if nn.ArgMax(logits.Data[i*k:(i+1)*k]) == y {
			n++
		}
	}
	return n
}

// Evaluation is a model's loss and accuracy on a set, with its confusion
// matrix (Confusion[true][predicted]).
type Evaluation struct {
	Loss, Accuracy float64
	Confusion      [][]int
}

// Evaluate runs m in eval mode over every sample of s.
func Evaluate(m *zoo.Model, s Source, batchSize int) (Evaluation, error) {
	ev := Evaluation{Confusion: make([][]int, m.Classes)}
	for i := range ev.Confusion {
		ev.Confusion[i] = make([]int, m.Classes)
	}
	if s.Len() == 0 {
		return ev, fmt.Errorf("train: empty evaluation set")
	}
	var correct int
	for lo := 0; lo < s.Len(); lo += batchSize {
		idx := make([]int, 0, batchSize)
		for i := lo; i < min(lo+batchSize, s.Len()); i++ {
			idx = append(idx, i)
		}
		x, labels := batch(s, idx)
		tr, err := m.Net.Forward(x, &nn.Context{}, nil)
		if err != nil {
			return ev, err
		}
		logits := tr.Output()
		loss, _, err := nn.CrossEntropy(logits, labels)
		if err != nil {
			return ev, err
		}
		ev.Loss += float64(loss) * float64(len(idx))
		k := logits.Shape[1]
		for j, y := range labels {
			p := nn.ArgMax(logits.Data[j*k : (j+1)*k])
			ev.Confusion[y][p]++
			if p == y {
				correct++
			}
		}
	}
	ev.Loss /= float64(s.Len())
	ev.Accuracy = float64(correct) / float64(s.Len())
	return ev, nil
}
