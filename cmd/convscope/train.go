package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/train"
	"github.com/convscope/convscope/train/recipe"
	"github.com/convscope/convscope/zoo"
)

func trainCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	name := fs.String("model", "lenet5", "model name (convscope summary -all lists them)")
	variant := fs.String("variant", "", "change the architecture, comma-separated: no-bn, no-lrn, no-dropout, no-shortcut, -LAYER (drop it), LAYER=KxK/S[/P] (a convolution's kernel, stride, padding)")
	dataset := fs.String("data", "fashion-mnist", "dataset: "+strings.Join(data.ImageDatasets(), ", ")+", or folder:DIR (one sub-folder per class)")
	folderInput := fs.String("input", "3x32x32", "with -data folder:DIR: the CxHxW pictures are resized and centre-cropped to")
	valFraction := fs.Float64("val", 0.1, "with -data folder:DIR: the fraction held out for testing (stratified, from -seed)")
	dataDir := fs.String("data-dir", "", "directory holding the dataset files (default: searched)")
	epochs := fs.Int("epochs", 10, "passes over the training set")
	batch := fs.Int("batch", 64, "mini-batch size")
	optimizer := fs.String("opt", "sgd", "optimizer: sgd or adamw")
	lr := fs.Float64("lr", 0.05, "peak learning rate")
	schedule := fs.String("schedule", "cosine", "learning-rate schedule: cosine, warmup-cosine, onecycle, constant")
	warmup := fs.Int("warmup", 0, "warm-up epochs of warmup-cosine")
	momentum := fs.Float64("momentum", 0.9, "SGD momentum")
	nesterov := fs.Bool("nesterov", false, "Nesterov momentum")
	wd := fs.Float64("wd", 5e-4, "weight decay (not on biases and norms)")
	smoothing := fs.Float64("label-smoothing", 0, "label smoothing of the cross-entropy")
	clip := fs.Float64("clip", 0, "clip the gradients' L2 norm to this (0: off)")
	augment := fs.String("augment", "none", "augmentation: none, flip (RandomHorizontalFlip), or crop-flip (RandomCrop with padding H/8, RandomHorizontalFlip)")
	erase := fs.Float64("erase", 0, "probability of RandomErasing (torchvision's defaults, erased to 0 after normalisation) on each training picture; 0 is off")
	cropPadding := fs.Int("crop-padding", 0, "with -augment crop-flip: RandomCrop's padding in pixels (0: H/8)")
	emaDecay := fs.Float64("ema", 0, "keep an exponential moving average of the weights with this decay (e.g. 0.9995) and make it the run's model: evaluated, snapshotted and written (0: off)")
	seed := fs.Uint64("seed", 1, "seed for initialisation, shuffling, dropout and augmentation")
	limit := fs.Int("limit", 0, "use only the first N training images (0: all)")
	out := fs.String("out", "", "checkpoint to write at the end (safetensors)")
	best := fs.String("best", "", "also keep the epoch with the best test accuracy here")
	state := fs.String("state", "", "resume file (default OUT.state when -checkpoint-every or -resume is given)")
	every := fs.Duration("checkpoint-every", 0, "save the run's state this often (and after every epoch, and on Ctrl-C)")
	resume := fs.Bool("resume", false, "continue the run saved in the state file")
	snapDir := fs.String("snapshots", "", "keep the weights after each of -snapshot-epochs as DIR/epoch-NNN.safetensors (convscope evolution draws them)")
	snapEpochs := fs.String("snapshot-epochs", "", "with -snapshots: the epochs to keep, comma-separated, e.g. 1,2,5,10,15 (default: every epoch)")
	initFrom := fs.String("init", "", "start from this checkpoint's weights (a fine-tune): same architecture, input and classes")
	metrics := fs.String("metrics", "", "write per-epoch metrics to PREFIX.jsonl and PREFIX.csv (default: OUT without .safetensors)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof; samples carry layer and pass labels: pprof -tags)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	if *out == "" {
		return fmt.Errorf("-out FILE is required")
	}
	base := strings.TrimSuffix(*out, ".safetensors")
	if *state == "" && (*every > 0 || *resume) {
		*state = base + ".state"
	}
	if *metrics == "" {
		*metrics = base
	}
	if *snapEpochs != "" && *snapDir == "" {
		return fmt.Errorf("-snapshot-epochs needs -snapshots DIR")
	}
	keep, err := recipe.ParseEpochs(*snapEpochs, *epochs)
	if err != nil {
		return fmt.Errorf("-snapshot-epochs: %w", err)
	}
	rec := recipe.Recipe{Model: *name, Variant: *variant, Data: *dataset, Input: *folderInput, Val: *valFraction, Epochs: *epochs, Batch: *batch,
		Optimizer: *optimizer, LR: *lr, Schedule: *schedule, Warmup: *warmup, Momentum: *momentum, Nesterov: *nesterov,
		WeightDecay: *wd, LabelSmoothing: *smoothing, Clip: *clip, EMA: *emaDecay, Augment: *augment, CropPadding: *cropPadding, Erase: *erase, Seed: *seed, Limit: *limit, FromFile: *initFrom}
	p, err := rec.Prepare(*dataDir)
	if err != nil {
		return err
	}
	m, testSet, meta := p.Model, p.Test, p.Meta
	if *initFrom != "" {
		src, _, err := card.Load("", *initFrom, 0)
		if err != nil {
			return err
		}
		if src.Name != m.Name || src.Variant != m.Variant || !slices.Equal(src.Input, m.Input) || src.Classes != m.Classes {
			return fmt.Errorf("-init %s is %s on %v with %d classes; the run trains %s on %v with %d", *initFrom, src.Label(), src.Input, src.Classes, m.Label(), m.Input, m.Classes)
		}
		if err := m.Net.Load(src.Net.State()); err != nil {
			return err
		}
	}
	meta["command"] = runCommand(args)
	log, err := newMetricsLog(*metrics, p.Classes, *resume)
	if err != nil {
		return err
	}
	defer log.Close()
	bestAcc := -1.0
	bar := newProgress(stdout)
	cfg := rec.Config()
	cfg.Checkpoint, cfg.CheckpointEvery, cfg.Resume, cfg.OnEvent = *state, *every, *resume, bar.event
	cfg.SnapshotDir, cfg.SnapshotEpochs, cfg.SnapshotMeta = *snapDir, keep, meta
	cfg.OnEpoch = func(r train.EpochResult, ev train.Evaluation) error {
		if err := log.Epoch(r); err != nil {
			return err
		}
		if *best != "" && r.TestAccuracy > bestAcc {
			bestAcc = r.TestAccuracy
			bm := train.EpochMeta(meta, r)
			bm["epoch"] = strconv.Itoa(r.Epoch)
			return zoo.SaveCheckpoint(*best, m, bm)
		}
		return nil
	}
	res, err := train.Fit(ctx, m, p.Train, testSet, cfg)
	if err != nil {
		if *state != "" && ctx.Err() != nil {
			fmt.Fprintf(stdout, "\nstopped; the run's state is in %s: add -resume to continue\n", *state)
		}
		return err
	}
	last := res[len(res)-1]
	ev, err := train.Evaluate(m, testSet, 256)
	if err != nil {
		return err
	}
	if err := log.Final(ev); err != nil {
		return err
	}
	if err := zoo.SaveCheckpoint(*out, m, train.EpochMeta(meta, last)); err != nil {
		return err
	}
	printConfusion(stdout, ev, p.Classes)
	fmt.Fprintf(stdout, "wrote %s: test accuracy %.4f after %d epochs in %s; metrics in %s.jsonl and .csv\n",
		*out, last.TestAccuracy, *epochs, last.Elapsed.Round(time.Second), *metrics)
	return nil
}

func evalCmd(_ context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	name := fs.String("model", "", "model name (default: the checkpoint's)")
	weights := fs.String("weights", "", "checkpoint (safetensors)")
	dataset := fs.String("data", "fashion-mnist", "dataset")
	dataDir := fs.String("data-dir", "", "directory holding the dataset files (default: searched)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *weights == "" {
		return fmt.Errorf("-weights FILE is required")
	}
	m, mc, err := loadModel(*name, *weights, 0)
	if err != nil {
		return err
	}
	set, err := data.OpenImages(*dataset, *dataDir, false)
	if err != nil {
		return err
	}
	set.Mean, set.Std = mc.Pre.Mean, mc.Pre.Std
	ev, err := train.Evaluate(m, set, 256)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s on %s test set (%d images), loss %.4f\n", m.Name, *dataset, set.Len(), ev.Loss)
	printConfusion(stdout, ev, set.Classes)
	fmt.Fprintf(stdout, "accuracy: %.4f\n", ev.Accuracy)
	return nil
}

// runCommand is the command line a checkpoint records: the one that
// reproduces the run. -resume continues the same run from its state file,
// so it is left out; a resumed run records what started it.
func runCommand(args []string) string {
	kept := make([]string, 0, len(args))
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "resume", "resume=true", "resume=1":
			continue
		}
		kept = append(kept, a)
	}
	return "convscope train " + strings.Join(kept, " ")
}
