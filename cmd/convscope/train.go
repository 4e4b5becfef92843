package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/train"
	"github.com/convscope/convscope/zoo"
)

func trainCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	name := fs.String("model", "lenet5", "model name")
	dataset := fs.String("data", "fashion-mnist", "dataset: fashion-mnist or mnist")
	dataDir := fs.String("data-dir", "", "directory holding the dataset files (default: searched)")
	epochs := fs.Int("epochs", 10, "passes over the training set")
	batch := fs.Int("batch", 64, "mini-batch size")
	lr := fs.Float64("lr", 0.05, "peak learning rate (cosine decay to 0)")
	momentum := fs.Float64("momentum", 0.9, "SGD momentum")
	wd := fs.Float64("wd", 5e-4, "weight decay (not on biases)")
	seed := fs.Uint64("seed", 1, "seed for initialisation, shuffling and dropout")
	limit := fs.Int("limit", 0, "use only the first N training images (0: all)")
	out := fs.String("out", "", "checkpoint to write (safetensors)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("-out FILE is required")
	}
	trainSet, testSet, pre, err := loadData(*dataset, *dataDir)
	if err != nil {
		return err
	}
	m, err := zoo.Build(*name, trainSet.Shape(), 10, *seed)
	if err != nil {
		return err
	}
	bar := newProgress(stdout)
	cfg := train.Config{Epochs: *epochs, BatchSize: *batch, LR: float32(*lr), Momentum: float32(*momentum),
		WeightDecay: float32(*wd), Cosine: true, Seed: *seed, OnEvent: bar.event}
	start := time.Now()
	res, err := train.Fit(ctx, m, train.Subset(trainSet, *limit), testSet, cfg)
	if err != nil {
		return err
	}
	last := res[len(res)-1]
	meta := map[string]string{
		zoo.MetaDataset: *dataset, zoo.MetaMean: zoo.FormatFloats(pre.Mean), zoo.MetaStd: zoo.FormatFloats(pre.Std),
		"test_accuracy": strconv.FormatFloat(last.TestAccuracy, 'f', 4, 64),
		"epochs":        strconv.Itoa(*epochs), "seed": strconv.FormatUint(*seed, 10),
		"wall_time": time.Since(start).Round(time.Second).String(),
		"command":   "convscope train " + strings.Join(args, " "),
	}
	if err := zoo.SaveCheckpoint(*out, m, meta); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: test accuracy %.4f after %d epochs in %s\n", *out, last.TestAccuracy, *epochs, meta["wall_time"])
	return nil
}

// loadData opens a dataset's training and test sets as normalised tensors,
// with the normalisation measured on the training set.
func loadData(name, dir string) (*train.Tensors, *train.Tensors, zoo.Preprocess, error) {
	tr, err := data.Open(name, dir, true)
	if err != nil {
		return nil, nil, zoo.Preprocess{}, err
	}
	te, err := data.Open(name, dir, false)
	if err != nil {
		return nil, nil, zoo.Preprocess{}, err
	}
	pre := measure(tr)
	a, err := toTensors(tr, pre)
	if err != nil {
		return nil, nil, pre, err
	}
	b, err := toTensors(te, pre)
	return a, b, pre, err
}

// measure is the mean and standard deviation of all training pixels in [0,1].
func measure(s *data.Set) zoo.Preprocess {
	var sum, sq float64
	for _, p := range s.Images.Pix {
		v := float64(p) / 255
		sum += v
		sq += v * v
	}
	n := float64(len(s.Images.Pix))
	mean := sum / n
	return zoo.Preprocess{Mean: []float32{float32(mean)}, Std: []float32{float32(math.Sqrt(sq/n - mean*mean))}}
}

func toTensors(s *data.Set, pre zoo.Preprocess) (*train.Tensors, error) {
	n, h, w := s.Len(), s.Images.H, s.Images.W
	x := nn.New(n, 1, h, w)
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		copy(x.Data[i*h*w:], s.Float(i, pre.Mean[0], pre.Std[0]))
		labels[i] = int(s.Labels[i])
	}
	return train.NewTensors(x, labels)
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
	m, meta, err := loadModel(*name, *weights, 0)
	if err != nil {
		return err
	}
	pre, err := zoo.PreprocessOf(meta, m.Input[0])
	if err != nil {
		return err
	}
	te, err := data.Open(*dataset, *dataDir, false)
	if err != nil {
		return err
	}
	set, err := toTensors(te, pre)
	if err != nil {
		return err
	}
	ev, err := train.Evaluate(m, set, 256)
	if err != nil {
		return err
	}
	names := data.ClassNames(*dataset)
	fmt.Fprintf(stdout, "%s on %s test set (%d images), loss %.4f\n", m.Name, *dataset, set.Len(), ev.Loss)
	for c, row := range ev.Confusion {
		var tot int
		for _, v := range row {
			tot += v
		}
		label := strconv.Itoa(c)
		if c < len(names) {
			label = names[c]
		}
		fmt.Fprintf(stdout, "  %-12s %.4f\n", label, float64(row[c])/float64(max(tot, 1)))
	}
	fmt.Fprintf(stdout, "accuracy: %.4f\n", ev.Accuracy)
	return nil
}
