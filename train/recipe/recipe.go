// Package recipe describes a training run as a person writes it (the
// architecture, the data, the hyper-parameters) and makes it ready for
// train.Fit: what `convscope train`'s flags and the live training page's
// form say, stored with a run so it can be resumed and repeated.
package recipe

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/train"
	"github.com/convscope/convscope/zoo"
)

// Recipe is a training run as a person writes it: the architecture, the
// data and the hyper-parameters, everything `convscope train`'s flags and
// the live training page's form say. It is stored with a run, so the run
// can be resumed and repeated bit for bit.
type Recipe struct {
	Model string `json:"model"`
	// Variant changes the architecture (zoo.ParseVariant: "no-shortcut",
	// "features.0=11x11/4,-features.2"); empty for the model as registered.
	Variant string `json:"variant,omitempty"`
	// Data is a dataset name (data.ImageDatasets) or "folder:DIR".
	Data string `json:"data"`
	// Input is the CxHxW size folder pictures are resized to ("3x32x32").
	Input string `json:"input,omitempty"`
	// Val is the fraction of a folder held out for testing.
	Val            float64 `json:"val,omitempty"`
	Epochs         int     `json:"epochs"`
	Batch          int     `json:"batch"`
	Optimizer      string  `json:"optimizer"`
	LR             float64 `json:"lr"`
	Schedule       string  `json:"schedule"`
	Warmup         int     `json:"warmup,omitempty"`
	Momentum       float64 `json:"momentum"`
	Nesterov       bool    `json:"nesterov,omitempty"`
	WeightDecay    float64 `json:"weight_decay"`
	LabelSmoothing float64 `json:"label_smoothing,omitempty"`
	Clip           float64 `json:"clip,omitempty"`
	// EMA is the decay of the weights' moving average, which becomes the
	// run's model (train.Config.EMA); 0 keeps the trained weights.
	EMA float64 `json:"ema,omitempty"`
	// Augment is "none", "flip" (RandomHorizontalFlip) or "crop-flip"
	// (RandomCrop with padding H/8, then the flip).
	Augment string `json:"augment"`
	// CropPadding is crop-flip's padding in pixels; 0 is H/8 (3 at 28,
	// 4 at 32).
	CropPadding int `json:"crop_padding,omitempty"`
	// Erase is the probability of torchvision's RandomErasing (Zhong et
	// al.; default scale and ratio, erased to 0 after normalisation) on
	// each training picture, after the other augmentations; 0 is off.
	Erase float64 `json:"erase,omitempty"`
	Seed  uint64  `json:"seed"`
	// Limit uses only the first Limit training images (0: all).
	Limit int `json:"limit,omitempty"`
	// From names the trained model whose weights the run starts from (a
	// fine-tune), as the caller knows its models (the training page: the
	// explorer's menu); empty starts from the seed's initialisation.
	// Prepare does not read it: the caller loads those weights.
	From string `json:"from,omitempty"`
	// FromFile is the checkpoint file those weights are read from, for
	// the command line (`convscope train -init FILE`); empty when From is
	// empty or its weights are not a file the command line can read.
	FromFile string `json:"from_file,omitempty"`
	// Snapshots are the epochs after which a run keeps its weights for
	// Figure 4 (feature evolution), ascending; empty keeps every epoch's.
	Snapshots []int `json:"snapshots,omitempty"`
}

// ParseEpochs reads a comma-separated list of epochs of a run of epochs
// ("1,2,5,10,15"), sorted and without repeats; "" is none.
func ParseEpochs(s string, epochs int) ([]int, error) {
	var out []int
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for _, f := range strings.Split(s, ",") {
		e, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || e < 1 || e > epochs {
			return nil, fmt.Errorf("%q is not an epoch of 1..%d", strings.TrimSpace(f), epochs)
		}
		out = append(out, e)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Default is the recipe convscope's embedded checkpoints of model
// were trained with (tools/results/train_all.sh, docs/RESULTS.md) on
// Fashion-MNIST, or a plain SGD one for a model with none.
func Default(model string) Recipe {
	r := Recipe{Model: model, Data: "fashion-mnist", Epochs: 15, Batch: 64, Optimizer: "sgd", LR: 0.05, Schedule: "cosine",
		Momentum: 0.9, WeightDecay: 5e-4, Augment: "crop-flip", Seed: 1}
	switch model {
	case "lenet5":
		r.Epochs, r.Augment = 20, "none"
	case "alexnet_small":
		r.LR = 0.02
	case "zfnet_small":
		r.Optimizer, r.LR, r.WeightDecay = "adamw", 0.001, 0.01
	case "resnet20", "resnet32":
		r.LR, r.Batch = 0.1, 128
	case "mobilenet_v1_small", "mobilenet_v1_small_050", "mobilenet_v2_small":
		r.WeightDecay = 4e-5
	case "convnext_mini":
		r.Epochs, r.Optimizer, r.LR, r.WeightDecay, r.Schedule, r.Warmup = 26, "adamw", 0.006, 0.05, "warmup-cosine", 1
		r.Batch, r.CropPadding, r.LabelSmoothing, r.Erase = 128, 1, 0.1, 0.5
	}
	return r
}

// Check reports the first thing wrong with the recipe, before any work.
func (r Recipe) Check() error {
	switch {
	case r.Model == "":
		return fmt.Errorf("recipe: no model")
	case r.Epochs < 1 || r.Epochs > 1000:
		return fmt.Errorf("recipe: %d epochs, want 1 to 1000", r.Epochs)
	case r.Batch < 1 || r.Batch > 4096:
		return fmt.Errorf("recipe: batch %d, want 1 to 4096", r.Batch)
	case !(r.LR > 0 && r.LR <= 10):
		return fmt.Errorf("recipe: learning rate %g, want more than 0 and at most 10", r.LR)
	case r.Optimizer != "sgd" && r.Optimizer != "adamw":
		return fmt.Errorf("recipe: optimizer %q, want sgd or adamw", r.Optimizer)
	case !slices.Contains([]string{"cosine", "warmup-cosine", "onecycle", "constant"}, r.Schedule):
		return fmt.Errorf("recipe: schedule %q, want cosine, warmup-cosine, onecycle or constant", r.Schedule)
	case !slices.Contains([]string{"none", "flip", "crop-flip"}, r.Augment):
		return fmt.Errorf("recipe: augmentation %q, want none, flip or crop-flip", r.Augment)
	case r.CropPadding < 0 || r.CropPadding > 16:
		return fmt.Errorf("recipe: crop padding %d, want 0 (H/8) to 16", r.CropPadding)
	case r.CropPadding > 0 && r.Augment != "crop-flip":
		return fmt.Errorf("recipe: crop padding %d without crop-flip", r.CropPadding)
	case r.Limit < 0:
		return fmt.Errorf("recipe: limit %d, want 0 (all) or more", r.Limit)
	case r.Warmup < 0 || r.Warmup >= r.Epochs && r.Schedule == "warmup-cosine":
		return fmt.Errorf("recipe: %d warm-up epochs of %d", r.Warmup, r.Epochs)
	case r.LabelSmoothing < 0 || r.LabelSmoothing >= 1:
		return fmt.Errorf("recipe: label smoothing %g, want 0 to below 1", r.LabelSmoothing)
	case r.EMA < 0 || r.EMA >= 1:
		return fmt.Errorf("recipe: EMA decay %g, want 0 (off) to below 1", r.EMA)
	case !(r.Erase >= 0 && r.Erase <= 1):
		return fmt.Errorf("recipe: erasing probability %g, want 0 (off) to 1", r.Erase)
	case len(r.Snapshots) > 0 && (r.Snapshots[0] < 1 || r.Snapshots[len(r.Snapshots)-1] > r.Epochs):
		return fmt.Errorf("recipe: snapshots after epochs %v, want epochs of 1..%d", r.Snapshots, r.Epochs)
	}
	if _, err := zoo.Lookup(r.Model); err != nil {
		return fmt.Errorf("recipe: %w", err)
	}
	if _, err := zoo.ParseVariant(r.Variant); err != nil {
		return fmt.Errorf("recipe: %w", err)
	}
	return nil
}

// Prepared is a recipe made ready to run: the model (initialised from the
// seed), the training source (limited and augmented), the test set, the
// normalisation and the metadata a checkpoint of the run carries.
type Prepared struct {
	Model   *zoo.Model
	Train   train.Source
	Test    *data.ImageSet
	Classes []string
	Pre     zoo.Preprocess
	// Meta are the checkpoint metadata keys (zoo.Meta*) of the run, less
	// those of a finished epoch (WithEpoch adds them).
	Meta map[string]string
}

// Prepare opens the recipe's data (datasets looked for in dataDir first),
// builds the model and the training source.
func (r Recipe) Prepare(dataDir string) (*Prepared, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	var trainSet, testSet *data.ImageSet
	var pre zoo.Preprocess
	var err error
	if dir, ok := strings.CutPrefix(r.Data, "folder:"); ok {
		input, val := r.Input, r.Val
		if input == "" {
			input = "3x32x32"
		}
		if val == 0 {
			val = 0.1
		}
		trainSet, testSet, pre, err = LoadFolder(dir, input, val, r.Seed)
	} else {
		trainSet, testSet, pre, err = LoadData(r.Data, dataDir)
	}
	if err != nil {
		return nil, err
	}
	var source train.Source = train.Subset(trainSet, r.Limit)
	var steps data.Compose
	switch r.Augment {
	case "crop-flip":
		pad := max(trainSet.H/8, 1)
		if r.CropPadding > 0 {
			pad = r.CropPadding
		}
		steps = data.Compose{
			data.RandomCrop{Height: trainSet.H, Width: trainSet.W, Padding: pad},
			data.RandomHorizontalFlip{P: 0.5},
		}
	case "flip":
		steps = data.Compose{data.RandomHorizontalFlip{P: 0.5}}
	}
	if len(steps) == 0 && r.Erase == 0 {
		trainSet.Mean, trainSet.Std = pre.Mean, pre.Std // the dataset normalises
	} else {
		steps = append(steps, data.Normalize{Mean: pre.Mean, Std: pre.Std})
		if r.Erase > 0 {
			steps = append(steps, data.RandomErasing{P: r.Erase})
		}
		source = data.Augment(source.(data.Dataset), steps, r.Seed)
	}
	m, err := zoo.BuildVariant(r.Model, r.Variant, trainSet.Shape(), len(trainSet.Classes), r.Seed)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{
		zoo.MetaDataset: r.Data, zoo.MetaMean: zoo.FormatFloats(pre.Mean), zoo.MetaStd: zoo.FormatFloats(pre.Std),
		zoo.MetaEpochs: strconv.Itoa(r.Epochs), "seed": strconv.FormatUint(r.Seed, 10),
	}
	return &Prepared{Model: m, Train: source, Test: testSet, Classes: trainSet.Classes, Pre: pre, Meta: meta}, nil
}

// Config is the run's train.Config from the recipe (the hooks and the
// checkpoint are the caller's to add).
func (r Recipe) Config() train.Config {
	return train.Config{Epochs: r.Epochs, BatchSize: r.Batch, Optimizer: r.Optimizer, LR: float32(r.LR),
		Momentum: float32(r.Momentum), Nesterov: r.Nesterov, WeightDecay: float32(r.WeightDecay), Schedule: r.Schedule,
		WarmupEpochs: r.Warmup, LabelSmoothing: float32(r.LabelSmoothing), ClipNorm: float32(r.Clip), EMA: float32(r.EMA), Seed: r.Seed}
}

// Command is the `convscope train` command line that runs the recipe,
// writing out.
func (r Recipe) Command(out string) string {
	args := []string{"convscope train", "-model " + r.Model}
	if changes, err := zoo.ParseVariant(r.Variant); err == nil && len(changes) > 0 {
		args = append(args, "-variant "+zoo.FormatVariant(changes))
	}
	args = append(args, "-data "+r.Data, "-epochs "+strconv.Itoa(r.Epochs),
		"-batch "+strconv.Itoa(r.Batch), "-opt "+r.Optimizer, "-lr "+strconv.FormatFloat(r.LR, 'g', -1, 64),
		"-schedule "+r.Schedule, "-momentum "+strconv.FormatFloat(r.Momentum, 'g', -1, 64),
		"-wd "+strconv.FormatFloat(r.WeightDecay, 'g', -1, 64), "-augment "+r.Augment)
	if r.CropPadding > 0 {
		args = append(args, "-crop-padding "+strconv.Itoa(r.CropPadding))
	}
	if r.Erase > 0 {
		args = append(args, "-erase "+strconv.FormatFloat(r.Erase, 'g', -1, 64))
	}
	args = append(args, "-seed "+strconv.FormatUint(r.Seed, 10))
	if r.Warmup > 0 {
		args = append(args, "-warmup "+strconv.Itoa(r.Warmup))
	}
	if r.Nesterov {
		args = append(args, "-nesterov")
	}
	if r.LabelSmoothing > 0 {
		args = append(args, "-label-smoothing "+strconv.FormatFloat(r.LabelSmoothing, 'g', -1, 64))
	}
	if r.Clip > 0 {
		args = append(args, "-clip "+strconv.FormatFloat(r.Clip, 'g', -1, 64))
	}
	if r.EMA > 0 {
		args = append(args, "-ema "+strconv.FormatFloat(r.EMA, 'g', -1, 64))
	}
	if r.Limit > 0 {
		args = append(args, "-limit "+strconv.Itoa(r.Limit))
	}
	if r.Input != "" {
		args = append(args, "-input "+r.Input)
	}
	if r.FromFile != "" {
		args = append(args, "-init "+r.FromFile)
	}
	return strings.Join(append(args, "-out "+out), " ")
}

// LoadFolder reads an image folder at a CxHxW size and splits it into a
// training and a held-out set, normalised with the training set's
// statistics.
func LoadFolder(dir, input string, val float64, seed uint64) (*data.ImageSet, *data.ImageSet, zoo.Preprocess, error) {
	shape, err := zoo.ParseShape(input)
	if err != nil {
		return nil, nil, zoo.Preprocess{}, err
	}
	tr, te, err := data.SplitFolder(dir, data.FolderOptions{Channels: shape[0], Height: shape[1], Width: shape[2]}, val, seed)
	if err != nil {
		return nil, nil, zoo.Preprocess{}, err
	}
	if te.Len() == 0 {
		return nil, nil, zoo.Preprocess{}, fmt.Errorf("%s: -val %g holds out no picture to test on", dir, val)
	}
	mean, std := tr.Measure()
	te.Mean, te.Std = mean, std
	return tr, te, zoo.Preprocess{Mean: mean, Std: std}, nil
}

// LoadData opens a dataset's training and test sets, with the per-channel
// normalisation measured on the training set (applied to the test set).
func LoadData(name, dir string) (*data.ImageSet, *data.ImageSet, zoo.Preprocess, error) {
	tr, err := data.OpenImages(name, dir, true)
	if err != nil {
		return nil, nil, zoo.Preprocess{}, err
	}
	te, err := data.OpenImages(name, dir, false)
	if err != nil {
		return nil, nil, zoo.Preprocess{}, err
	}
	mean, std := tr.Measure()
	te.Mean, te.Std = mean, std
	return tr, te, zoo.Preprocess{Mean: mean, Std: std}, nil
}

// labPairs are the architecture lab's classic comparisons, per model.
var labPairs = map[string][]string{
	// Zeiler & Fergus' Figure 6: AlexNet's 11x11 stride-4 first filters
	// against ZFNet's 7x7 stride 2 (each without the first pooling, so
	// that 28x28 inputs keep maps to pool later).
	"alexnet_small": {"features.0=11x11/4/5,-features.2", "features.0=7x7/2/3,-features.2"},
}

var variantCache sync.Map // model name -> []string

// Variants suggests changes for model's architecture lab: its classic
// pairs, then every "no-" change its layers allow (no-bn where it has
// batch norm, no-shortcut where it has residual blocks, ...). Each one
// builds at the model's default input.
func Variants(model string) []string {
	if v, ok := variantCache.Load(model); ok {
		return v.([]string)
	}
	var out []string
	for _, v := range append(append([]string(nil), labPairs[model]...), "no-bn", "no-lrn", "no-dropout", "no-shortcut") {
		if _, err := zoo.BuildVariant(model, v, nil, 0, 0); err == nil {
			out = append(out, v)
		}
	}
	variantCache.Store(model, out)
	return out
}
