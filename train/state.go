package train

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/convscope/convscope/nn"
)

// The resume file is a safetensors file: the model's state_dict under
// "model.<key>", the optimizer's state under "optim.<key>" (nn.StateOf), and
// the weights' moving average, if the run keeps one, under "ema.<key>", and
// in the metadata "train_state", the JSON of savedState.

// savedState is the position and bookkeeping of a run.
type savedState struct {
	Model        string        `json:"model"`
	Input        []int         `json:"input"`
	Classes      int           `json:"classes"`
	Fingerprint  string        `json:"config"`
	Epoch        int           `json:"epoch"`
	Step         int           `json:"step"`
	LossSum      float64       `json:"loss_sum"`
	Correct      int           `json:"correct"`
	Seen         int           `json:"seen"`
	Results      []EpochResult `json:"results"`
	Elapsed      time.Duration `json:"elapsed_ns"`
	EpochElapsed time.Duration `json:"epoch_elapsed_ns"`
	// EMAUpdates counts the steps folded into the moving average.
	EMAUpdates int `json:"ema_updates,omitempty"`
}

// fingerprint lists the settings a resumed run must share with the one it
// continues; anything else (checkpoint period, callbacks) may change.
func (c Config) fingerprint() string {
	f := fmt.Sprintf("epochs=%d batch=%d opt=%s lr=%g momentum=%g wd=%g nesterov=%v schedule=%s warmup=%d smoothing=%g clip=%g seed=%d",
		c.Epochs, c.BatchSize, c.Optimizer, c.LR, c.Momentum, c.WeightDecay, c.Nesterov, c.Schedule, c.WarmupEpochs,
		c.LabelSmoothing, c.ClipNorm, c.Seed)
	if c.EMA > 0 { // runs saved before the average existed keep their fingerprint
		f += fmt.Sprintf(" ema=%g", c.EMA)
	}
	return f
}

// save writes the run's full state to path atomically.
func (r *run) save(path string) error {
	st := savedState{Model: r.m.Name, Input: r.m.Input, Classes: r.m.Classes, Fingerprint: r.cfg.fingerprint(),
		Epoch: r.epoch, Step: r.step, LossSum: r.lossSum, Correct: r.correct, Seen: r.seen,
		Results: r.results, Elapsed: r.wall(), EpochElapsed: r.epochElapsed}
	tensors := map[string]*nn.Tensor{}
	for k, v := range r.m.Net.State() {
		tensors["model."+k] = v
	}
	for k, v := range nn.StateOf(r.opt, r.m.Net.Params()) {
		tensors["optim."+k] = v
	}
	if r.avg != nil {
		st.EMAUpdates = r.avg.n
		for k, v := range r.avg.state() {
			tensors[k] = v
		}
	}
	meta, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := nn.SaveSafetensors(path, tensors, map[string]string{"train_state": string(meta)}); err != nil {
		return fmt.Errorf("train: saving the run state: %w", err)
	}
	r.lastSave = time.Now()
	if r.cfg.OnEvent != nil {
		r.cfg.OnEvent(Event{Phase: "checkpoint", Epoch: r.epoch, Epochs: r.cfg.Epochs, Step: r.step, Steps: r.steps, Elapsed: r.wall()})
	}
	return nil
}

// restore continues from a state written by save; the model and the
// settings must be the ones it was written with.
func (r *run) restore(path string) error {
	tensors, meta, err := nn.LoadSafetensors(path)
	if err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	var st savedState
	if err := json.Unmarshal([]byte(meta["train_state"]), &st); err != nil {
		return fmt.Errorf("train: resume: %s holds no training state: %w", path, err)
	}
	if st.Model != r.m.Name || !nn.SameShape(st.Input, r.m.Input) || st.Classes != r.m.Classes {
		return fmt.Errorf("train: resume: %s is a run of %s %v with %d classes, not %s %v with %d", path,
			st.Model, st.Input, st.Classes, r.m.Name, r.m.Input, r.m.Classes)
	}
	if st.Fingerprint != r.cfg.fingerprint() {
		return fmt.Errorf("train: resume: %s was run with %q; this run has %q", path, st.Fingerprint, r.cfg.fingerprint())
	}
	model, optim := map[string]*nn.Tensor{}, map[string]*nn.Tensor{}
	for k, v := range tensors {
		switch {
		case strings.HasPrefix(k, "model."):
			model[strings.TrimPrefix(k, "model.")] = v
		case strings.HasPrefix(k, "optim."):
			optim[strings.TrimPrefix(k, "optim.")] = v
		}
	}
	if err := r.m.Net.Load(model); err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	if err := nn.LoadStateInto(r.opt, r.m.Net.Params(), optim); err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	if r.avg != nil {
		if err := r.avg.load(tensors, st.EMAUpdates); err != nil {
			return fmt.Errorf("train: resume: %s: %w", path, err)
		}
	}
	r.epoch, r.step, r.lossSum, r.correct, r.seen = st.Epoch, st.Step, st.LossSum, st.Correct, st.Seen
	r.results, r.elapsed, r.epochElapsed = st.Results, st.Elapsed, st.EpochElapsed
	r.resumedAt = (st.Epoch-1)*r.steps + st.Step
	return nil
}
