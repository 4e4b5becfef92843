// Package card is the one description of a model that every caller uses,
// the CLI, the web server's catalog and its pages: the architecture, the
// input, the classes and their dataset, how a picture becomes the model's
// input (the dataset's own preprocessing, or torchvision's ImageNet
// transform), whether the weights were trained, and where they came from.
// The CLI and the page preprocess a picture with the same Card.Prepare, so
// they give the same probabilities for the same file.
package card

import (
	"fmt"
	"image"
	"strconv"
	"strings"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// Card describes a model: everything a caller needs besides its network.
type Card struct {
	// Name identifies the model in URLs, the websocket protocol and menus
	// ("lenet5-fashion-mnist", "resnet18-f37072fd"); unique in a catalog.
	Name string
	// Model is the zoo architecture ("lenet5").
	Model string
	// Variant lists the changes the weights' architecture makes to Model
	// (zoo.ParseVariant: "no-shortcut"); "" for none.
	Variant string
	// Input is the per-sample input shape (C,H,W).
	Input []int
	// Dataset names the data the weights were trained on ("fashion-mnist"),
	// or the data whose classes an untrained model is labelled with
	// ("imagenet"); "" for none. It picks the sample gallery and whether
	// an upload is inverted (InvertsBrightPictures).
	Dataset string
	// Classes are the output labels, in output order.
	Classes []string
	// Pre is how a picture becomes the model's input.
	Pre Preprocess
	// Trained is false for randomly initialised weights.
	Trained bool
	// Source says where the weights came from: "embedded
	// weights/lenet5-fashion-mnist.safetensors", "file resnet18.pth",
	// "random initialisation, seed 0".
	Source string
	// TestAccuracy is the accuracy on the dataset's test split, in [0,1]
	// (0 when untrained or unknown).
	TestAccuracy float64
	// Command is how the weights were trained, when known.
	Command string
	// Epochs, WallTime and TrainImagesPerS are the training run's length
	// and speed, for the results page (zero when unknown).
	Epochs          int
	WallTime        string
	TrainImagesPerS float64
}

// Preprocess is how a picture becomes a model's input: resized, then
// normalised per channel.
type Preprocess struct {
	// Resize, when not 0, is torchvision's ImageNet transform: the
	// picture's shorter side resized to Resize, then the input-sized
	// centre crop (data.ResizeCenterCrop). 0 fits the whole picture inside
	// the input, the rest filled with the colour of its border
	// (data.ToPixels), as the small datasets' pictures are.
	Resize int
	// Mean and Std normalise the [0,1] pixels per channel; empty: none.
	Mean, Std []float32
}

// ImageNet is torchvision's ImageNet transform: Resize(256),
// CenterCrop(224), Normalize(ImageNet's mean and std).
var ImageNet = Preprocess{Resize: 256, Mean: data.ImageNetMean, Std: data.ImageNetStd}

// NoDataset is what pages print for a card whose Dataset is "".
const NoDataset = "none (untrained, no dataset)"

// DatasetLabel is the dataset as pages print it: Dataset, or NoDataset.
func (c Card) DatasetLabel() string {
	if c.Dataset == "" {
		return NoDataset
	}
	return c.Dataset
}

// InvertsBrightPictures reports whether an uploaded picture with a bright
// border (data.BrightBorder: a dark object photographed on white paper)
// should be inverted before this model sees it: true only for a one-channel
// model whose dataset draws light objects on black (data.DarkBackground:
// Fashion-MNIST, MNIST), never for a three-channel one, which was trained on
// (or is labelled with) photographs as they are.
func (c Card) InvertsBrightPictures() bool {
	return len(c.Input) > 0 && c.Input[0] == 1 && data.DarkBackground(c.Dataset)
}

// Pixels is the picture as the model sees it before normalisation:
// (1,C,H,W) values in [0,1].
func (c Card) Pixels(img image.Image) *nn.Tensor {
	ch, h, w := c.Input[0], c.Input[1], c.Input[2]
	if c.Pre.Resize > 0 && h == w {
		return data.ResizeCenterCrop(img, ch, c.Pre.Resize, h)
	}
	return data.ToPixels(img, ch, h, w)
}

// Normalize is the model's input for pixels from Pixels.
func (c Card) Normalize(pixels *nn.Tensor) *nn.Tensor {
	return data.Standardize(pixels, c.Pre.Mean, c.Pre.Std)
}

// WeightsFile is the file the card's weights come from, as the command
// line names it: an embedded checkpoint's path in the repository, a file
// read at start; "" for weights that are no file (a random
// initialisation, a visitor's upload).
func (c Card) WeightsFile() string {
	for _, prefix := range []string{"embedded ", "file "} {
		if path, ok := strings.CutPrefix(c.Source, prefix); ok {
			return path
		}
	}
	return ""
}

// Denormalize is the picture a model input x (N,C,H,W) shows, its first
// sample as (1,C,H,W) in [0,1]: Normalize undone (x·std + mean per
// channel), clipped.
func (c Card) Denormalize(x *nn.Tensor) *nn.Tensor {
	ch, plane := x.Shape[1], x.Shape[2]*x.Shape[3]
	pick := func(v []float32, k int, def float32) float32 {
		switch {
		case len(v) == 0:
			return def
		case len(v) == 1:
			return v[0]
		case k < len(v):
			return v[k]
		}
		return def
	}
	out := nn.New(1, ch, x.Shape[2], x.Shape[3])
	for k := range ch {
		mean, std := pick(c.Pre.Mean, k, 0), pick(c.Pre.Std, k, 1)
		for i, v := range x.Data[k*plane : (k+1)*plane] {
			out.Data[k*plane+i] = min(max(v*std+mean, 0), 1)
		}
	}
	return out
}

// Prepare is a picture as the model sees it (Pixels) and the model's input
// made of it (Normalize).
func (c Card) Prepare(img image.Image) (pixels, x *nn.Tensor) {
	pixels = c.Pixels(img)
	return pixels, c.Normalize(pixels)
}

// Numbered is n class labels "class 0".."class n-1", for a model with no
// dataset.
func Numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("class %d", i)
	}
	return out
}

// ClassesOf are a dataset's class names when it has n of them, else n
// numbers.
func ClassesOf(dataset string, n int) []string {
	if names := data.ClassNames(dataset); len(names) == n {
		return names
	}
	return Numbered(n)
}

// Untrained is the card of a zoo architecture with random weights at its
// default input and classes, labelled as a visitor would expect: the
// ImageNet-size ones with ImageNet's classes and transform, the one-channel
// small forms (1x28x28, 10 classes) as Fashion-MNIST, any other with no
// dataset and numbered classes (the CIFAR-shaped ResNets: no CIFAR data
// ships with convscope).
func Untrained(model string, seed uint64) (Card, error) {
	f, err := zoo.Lookup(model)
	if err != nil {
		return Card{}, err
	}
	c := Card{Name: model, Model: model, Input: append([]int(nil), f.Input...), Classes: Numbered(f.Classes),
		Source: fmt.Sprintf("random initialisation, seed %d", seed)}
	switch {
	case f.Classes == 1000 && f.Input[0] == 3:
		c.Dataset, c.Classes, c.Pre = "imagenet", data.ClassNames("imagenet"), ImageNet
	case f.Input[0] == 1 && f.Classes == 10:
		c.Dataset, c.Classes = "fashion-mnist", data.ClassNames("fashion-mnist")
	}
	return c, nil
}

// OfCheckpoint is the card of a model built from a checkpoint: a convscope
// checkpoint's metadata (zoo.Meta*: dataset, normalisation, training), or
// none for a plain state_dict (a torchvision .pth), which is taken as
// trained, labelled with ImageNet's classes when it has 1000, and given
// torchvision's ImageNet transform when its input is 3x224x224. source
// names the file.
func OfCheckpoint(name string, m *zoo.Model, meta map[string]string, source string) (Card, error) {
	c := Card{Name: name, Model: m.Name, Variant: m.Variant, Input: append([]int(nil), m.Input...), Dataset: meta[zoo.MetaDataset],
		Trained: true, Source: source}
	if c.Dataset == "" && m.Classes == 1000 {
		c.Dataset = "imagenet"
	}
	c.Classes = ClassesOf(c.Dataset, m.Classes)
	if a, err := strconv.ParseFloat(meta[zoo.MetaTestAccuracy], 64); err == nil && a >= 0 && a <= 1 {
		c.TestAccuracy = a
	}
	switch {
	case meta[zoo.MetaMean] != "" || meta[zoo.MetaStd] != "":
		pre, err := zoo.PreprocessOf(meta, m.Input[0])
		if err != nil {
			return c, err
		}
		c.Pre = Preprocess{Mean: pre.Mean, Std: pre.Std}
	case nn.SameShape(m.Input, []int{3, 224, 224}):
		c.Pre = ImageNet
	}
	return c, nil
}
