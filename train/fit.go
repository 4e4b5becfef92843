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
	Epochs, BatchSize int
	// Optimizer is "sgd" (the default) or "adamw".
	Optimizer                 string
	LR, Momentum, WeightDecay float32
	Nesterov                  bool
	// Schedule is "cosine" (the default: from LR to 0 over the run, per
	// step), "warmup-cosine" (linear warm-up over WarmupEpochs, then cosine),
	// "onecycle", or "constant".
	Schedule       string
	WarmupEpochs   int
	LabelSmoothing float32
	// ClipNorm, when positive, clips the gradients' total L2 norm.
	ClipNorm float32
	// EMA, when positive, is the decay of an exponential moving average of
	// the weights (and buffers) kept beside the trained ones and updated
	// after every step (ema). The average is the run's model: each epoch's
	// test evaluation, OnEpoch, the snapshots, and the model Fit leaves
	// behind are the average's, while the trained weights go on learning.
	EMA float32
	// Seed fixes the shuffling, dropout and augmentation: every epoch's order
	// and every step's random draws derive from it, so a resumed run repeats
	// an uninterrupted one exactly.
	Seed uint64
	// Checkpoint, when not empty, is the file the run's full state (weights,
	// optimizer state, position, metrics so far) is written to, atomically:
	// at the end of every epoch, every CheckpointEvery of wall time (if
	// positive), and when ctx is cancelled. Resume continues from it.
	Checkpoint      string
	CheckpointEvery time.Duration
	Resume          bool
	// SnapshotDir, when not empty, is where the model's weights are kept
	// after each epoch of SnapshotEpochs (1-based, as Event counts them;
	// every epoch when empty), as convscope checkpoints
	// DIR/epoch-NNN.safetensors (SnapshotName) that card.Load reads like
	// the run's final one, written atomically. Their metadata is
	// SnapshotMeta (dataset, normalisation, provenance: what convscope
	// train writes) with the epoch's figures (EpochMeta), MetaEpoch, and
	// zoo.MetaEpochs set to the snapshot's epoch. A resumed run writes the
	// snapshots of the epochs it runs: those of epochs finished before its
	// state was saved are not written again; an epoch it redoes (killed
	// after its snapshot, before its state) is written again with the same
	// weights, since a resumed run repeats an uninterrupted one exactly.
	SnapshotDir    string
	SnapshotEpochs []int
	SnapshotMeta   map[string]string
	// OnEvent, if not nil, receives progress as training goes.
	OnEvent func(Event)
	// OnEpoch, if not nil, sees each finished epoch and its test evaluation
	// (metrics files, best checkpoints).
	OnEpoch func(EpochResult, Evaluation) error
}

// Event reports progress: Phase "train" every few steps, "epoch" at the end
// of an epoch (with the test figures), "checkpoint" after a state is saved.
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
	Epoch        int           `json:"epoch"`
	Loss         float64       `json:"loss"`
	Accuracy     float64       `json:"accuracy"`
	TestLoss     float64       `json:"test_loss"`
	TestAccuracy float64       `json:"test_accuracy"`
	PerClass     []float64     `json:"test_per_class"`
	LR           float64       `json:"lr"`
	ImagesPerSec float64       `json:"images_per_s"`
	Elapsed      time.Duration `json:"wall_ns"`
}

// epochSetter is implemented by augmented sources whose random draws
// depend on the epoch (data.Augmented).
type epochSetter interface{ SetEpoch(int) }

// Fit trains m on trainSet and evaluates on testSet after each epoch.
func Fit(ctx context.Context, m *zoo.Model, trainSet, testSet Source, cfg Config) ([]EpochResult, error) {
	if !nn.SameShape(trainSet.Shape(), m.Input) {
		return nil, fmt.Errorf("train: %s takes %s, the data is %s", m.Name, nn.ShapeString(m.Input), nn.ShapeString(trainSet.Shape()))
	}
	if cfg.BatchSize <= 0 || cfg.Epochs <= 0 {
		return nil, fmt.Errorf("train: batch size %d and epochs %d must be positive", cfg.BatchSize, cfg.Epochs)
	}
	r, err := newRun(m, trainSet, cfg)
	if err != nil {
		return nil, err
	}
	if r.keep, err = snapshots(cfg); err != nil {
		return nil, err
	}
	if cfg.Checkpoint != "" {
		// A run killed while writing its checkpoint left a temporary
		// file beside it: tidy before starting.
		nn.RemoveStaleTemps(cfg.Checkpoint)
	}
	if cfg.Resume && cfg.Checkpoint != "" {
		if err := r.restore(cfg.Checkpoint); err != nil {
			return nil, err
		}
	}
	return r.loop(ctx, trainSet, testSet)
}

// run is one training run's mutable state: what a checkpoint holds.
type run struct {
	m        *zoo.Model
	cfg      Config
	opt      nn.Optimizer
	schedule nn.Schedule
	loss     nn.CrossEntropyLoss
	steps    int // per epoch

	// Position: the next step to run is step `step` of epoch `epoch`.
	epoch, step         int
	lossSum             float64
	correct, seen       int
	results             []EpochResult
	elapsed             time.Duration // before this process
	resumedAt           int           // global step this process started from
	epochElapsed        time.Duration // of the current epoch, before this process
	lastSave, procStart time.Time
	// arena holds a step's activations and their gradients, reused by the next step.
	arena *nn.Arena
	// keep are the epochs after which a snapshot is written.
	keep map[int]bool
	// avg is the weights' moving average when cfg.EMA is set.
	avg *ema
}

func newRun(m *zoo.Model, trainSet Source, cfg Config) (*run, error) {
	r := &run{m: m, cfg: cfg, epoch: 1, loss: nn.CrossEntropyLoss{Smoothing: cfg.LabelSmoothing}}
	r.steps = (trainSet.Len() + cfg.BatchSize - 1) / cfg.BatchSize
	total := r.steps * cfg.Epochs
	switch {
	case cfg.EMA < 0 || cfg.EMA >= 1:
		return nil, fmt.Errorf("train: EMA decay %g, want 0 (off) or between 0 and 1", cfg.EMA)
	case cfg.EMA > 0:
		r.avg = newEMA(m.Net, cfg.EMA)
	}
	switch cfg.Optimizer {
	case "", "sgd":
		sgd := nn.NewSGD(cfg.LR, cfg.Momentum, cfg.WeightDecay)
		sgd.Nesterov = cfg.Nesterov
		r.opt = sgd
	case "adamw":
		r.opt = nn.NewAdamW(cfg.LR, cfg.WeightDecay)
	default:
		return nil, fmt.Errorf("train: unknown optimizer %q (sgd or adamw)", cfg.Optimizer)
	}
	switch cfg.Schedule {
	case "", "cosine":
		r.schedule = nn.CosineLR(cfg.LR, 0, total)
	case "warmup-cosine":
		r.schedule = nn.WarmupCosineLR(cfg.LR, 0.01, 0, cfg.WarmupEpochs*r.steps, total)
	case "onecycle":
		r.schedule = nn.OneCycleLR(cfg.LR, total, 0.3, 25, 1e4)
	case "constant":
		r.schedule = func(int) float32 { return cfg.LR }
	default:
		return nil, fmt.Errorf("train: unknown schedule %q (cosine, warmup-cosine, onecycle, constant)", cfg.Schedule)
	}
	return r, nil
}

// Order is epoch e's visiting order: a permutation drawn from (seed, e).
func Order(seed uint64, epoch, n int) []int {
	return rand.New(rand.NewPCG(seed, uint64(epoch))).Perm(n)
}

// stepRand drives one step's dropout and drop-path masks.
func stepRand(seed uint64, globalStep int) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, uint64(globalStep)))
}

func (r *run) loop(ctx context.Context, trainSet, testSet Source) ([]EpochResult, error) {
	r.procStart, r.lastSave = time.Now(), time.Now()
	total := r.steps * r.cfg.Epochs
	for ; r.epoch <= r.cfg.Epochs; r.epoch, r.step = r.epoch+1, 0 {
		if es, ok := trainSet.(epochSetter); ok {
			es.SetEpoch(r.epoch)
		}
		order := Order(r.cfg.Seed, r.epoch, trainSet.Len())
		batches, stop := prefetch(trainSet, order, r.cfg.BatchSize, r.step, r.steps)
		epochStart := time.Now()
		for ; r.step < r.steps; r.step++ {
			if err := ctx.Err(); err != nil {
				stop()
				r.epochElapsed += time.Since(epochStart)
				if r.cfg.Checkpoint != "" {
					if serr := r.save(r.cfg.Checkpoint); serr != nil {
						return r.results, fmt.Errorf("%w (and saving the state failed: %v)", err, serr)
					}
				}
				return r.results, err
			}
			done := (r.epoch-1)*r.steps + r.step
			r.opt.SetLR(r.schedule(done))
			b := <-batches
			loss, hits, err := r.update(b.x, b.labels, stepRand(r.cfg.Seed, done))
			if err != nil {
				stop()
				return r.results, err
			}
			if r.avg != nil {
				r.avg.update()
			}
			r.lossSum += loss * float64(len(b.labels))
			r.correct += hits
			r.seen += len(b.labels)
			if r.cfg.OnEvent != nil && (r.step%10 == 9 || r.step == r.steps-1) {
				el := r.wall()
				ips := float64(r.seen) / (r.epochElapsed + time.Since(epochStart)).Seconds()
				r.cfg.OnEvent(Event{Phase: "train", Epoch: r.epoch, Epochs: r.cfg.Epochs, Step: r.step + 1, Steps: r.steps,
					Loss: r.lossSum / float64(r.seen), Accuracy: float64(r.correct) / float64(r.seen), LR: float64(r.opt.LR()),
					ImagesPerSec: ips, Elapsed: el, ETA: time.Duration(float64(time.Since(r.procStart)) / float64(done+1-r.doneBefore()) * float64(total-done-1))})
			}
			if r.cfg.Checkpoint != "" && r.cfg.CheckpointEvery > 0 && time.Since(r.lastSave) >= r.cfg.CheckpointEvery && r.step+1 < r.steps {
				r.step++ // the state after this step: resume runs the next one
				r.epochElapsed += time.Since(epochStart)
				epochStart = time.Now()
				err := r.save(r.cfg.Checkpoint)
				r.step--
				if err != nil {
					stop()
					return r.results, err
				}
			}
		}
		stop()
		res := EpochResult{Epoch: r.epoch, Loss: r.lossSum / float64(r.seen), Accuracy: float64(r.correct) / float64(r.seen),
			LR: float64(r.opt.LR()), ImagesPerSec: float64(r.seen) / (r.epochElapsed + time.Since(epochStart)).Seconds()}
		if r.avg != nil {
			r.avg.swap() // the average is evaluated and kept
		}
		ev, err := Evaluate(r.m, testSet, 256)
		if err != nil {
			return r.results, err
		}
		res.TestLoss, res.TestAccuracy, res.PerClass, res.Elapsed = ev.Loss, ev.Accuracy, ev.PerClass(), r.wall()
		r.results = append(r.results, res)
		r.lossSum, r.correct, r.seen, r.epochElapsed = 0, 0, 0, 0
		if r.cfg.OnEvent != nil {
			r.cfg.OnEvent(Event{Phase: "epoch", Epoch: r.epoch, Epochs: r.cfg.Epochs, Step: r.steps, Steps: r.steps,
				Loss: res.Loss, Accuracy: res.Accuracy, LR: res.LR, ImagesPerSec: res.ImagesPerSec,
				Elapsed: res.Elapsed, TestLoss: res.TestLoss, TestAccuracy: res.TestAccuracy})
		}
		if r.cfg.OnEpoch != nil {
			if err := r.cfg.OnEpoch(res, ev); err != nil {
				return r.results, err
			}
		}
		// Before the state: a state past this epoch implies its snapshot.
		if err := r.snapshot(res); err != nil {
			return r.results, err
		}
		if r.avg != nil {
			r.avg.swap() // the trained weights again, to save and go on
		}
		if r.cfg.Checkpoint != "" {
			r.epoch, r.step = r.epoch+1, 0 // the state after this epoch
			err := r.save(r.cfg.Checkpoint)
			r.epoch--
			if err != nil {
				return r.results, err
			}
		}
	}
	if r.avg != nil {
		r.avg.swap() // the run's model is the average
	}
	return r.results, nil
}

// prepared is one step's batch.
type prepared struct {
	x      *nn.Tensor
	labels []int
}

// prefetch fills the batches of steps [from, steps) of an epoch's order on
// another goroutine, one step ahead of training, so that reading and
// augmenting samples overlaps with the compute; batches arrive in order and
// each sample's augmentation depends only on (seed, epoch, index), so the
// result is the same as filling them in line. stop ends the goroutine early.
func prefetch(s Source, order []int, batchSize, from, steps int) (<-chan prepared, func()) {
	out := make(chan prepared, 1)
	quit := make(chan struct{})
	go func() {
		defer close(out)
		for st := from; st < steps; st++ {
			idx := order[st*batchSize : min((st+1)*batchSize, len(order))]
			x, labels := batch(s, idx)
			select {
			case out <- prepared{x, labels}:
			case <-quit:
				return
			}
		}
	}()
	var once bool
	return out, func() {
		if !once {
			once = true
			close(quit)
		}
	}
}

// wall is the run's training time so far, across resumptions.
func (r *run) wall() time.Duration { return r.elapsed + time.Since(r.procStart) }

// doneBefore is the number of steps done before this process started.
func (r *run) doneBefore() int { return r.resumedAt }

// update runs forward, the loss (plus the weighted losses of any auxiliary
// heads, as GoogLeNet's), backward, clipping and one optimizer step on a
// batch, returning the main loss and the number of correct predictions.
func (r *run) update(x *nn.Tensor, labels []int, rng *rand.Rand) (float64, int, error) {
	if r.arena == nil && reuseBuffers {
		r.arena = nn.NewArena()
		r.arena.Poison = poisonBuffers
	}
	defer r.arena.Reset() // nothing of this step's trace outlives it
	tr, err := r.m.Net.Forward(x, &nn.Context{Train: true, Rand: rng, Arena: r.arena, InPlace: rectifyInPlace}, nil)
	if err != nil {
		return 0, 0, err
	}
	tr.Steps[0].SkipInputGrad = true // the images are not learned
	logits := tr.Output()
	loss, dlogits, err := r.loss.Compute(logits, labels)
	if err != nil {
		return 0, 0, err
	}
	for _, aux := range tr.AuxOutputs() {
		_, d, err := r.loss.Compute(aux.Logits, labels)
		if err != nil {
			return 0, 0, err
		}
		for i := range d.Data {
			d.Data[i] *= aux.Weight
		}
		aux.SetGradient(d)
	}
	g := nn.Grads{}
	if _, err := r.m.Net.Backward(tr, len(tr.Steps)-1, dlogits, nn.Gradient, g); err != nil {
		return 0, 0, err
	}
	if r.cfg.ClipNorm > 0 {
		nn.ClipGradNorm(g, r.cfg.ClipNorm)
	}
	r.opt.Step(g)
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

// PerClass is each class's accuracy (recall): the diagonal over the row sums.
func (e Evaluation) PerClass() []float64 {
	out := make([]float64, len(e.Confusion))
	for c, row := range e.Confusion {
		var n int
		for _, v := range row {
			n += v
		}
		if n > 0 {
			out[c] = float64(row[c]) / float64(n)
		}
	}
	return out
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
	arena := nn.NewArena() // each batch's logits are dropped before the next
	var slicer nn.Slicer
	for lo := 0; lo < s.Len(); lo += batchSize {
		arena.Reset()
		idx := make([]int, 0, batchSize)
		for i := lo; i < min(lo+batchSize, s.Len()); i++ {
			idx = append(idx, i)
		}
		x, labels := batch(s, idx)
		logits, err := slicer.Logits(m.Net, x, arena)
		if err != nil {
			return ev, err
		}
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

// Stepper runs single training steps (forward, loss, backward, optimizer
// update) outside Fit, for benchmarks that time steps on fixed batches.
type Stepper struct {
	r    *run
	done int
}

// NewStepper prepares steps of m with cfg's optimizer and loss (the
// learning rate stays cfg.LR).
func NewStepper(m *zoo.Model, cfg Config) (*Stepper, error) {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1
	}
	cfg.Epochs = max(cfg.Epochs, 1)
	cfg.Schedule = "constant"
	r, err := newRun(m, &Tensors{X: nn.New(append([]int{1}, m.Input...)...), Labels: []int{0}}, cfg)
	if err != nil {
		return nil, err
	}
	return &Stepper{r: r}, nil
}

// Step trains on one batch x (N,C,H,W) and returns its loss.
func (s *Stepper) Step(x *nn.Tensor, labels []int) (float64, error) {
	s.done++
	loss, _, err := s.r.update(x, labels, stepRand(s.r.cfg.Seed, s.done))
	return loss, err
}

// reuseBuffers makes each step take its tensors from the run's nn.Arena;
// poisonBuffers makes the arena fill recycled buffers with NaN. Both are
// switches for the test that steps with and without the arena agree.
var reuseBuffers, poisonBuffers = true, false

// rectifyInPlace lets a step's rectifiers write over their inputs
// (nn.Context.InPlace); tests turn it off to compare.
var rectifyInPlace = true
