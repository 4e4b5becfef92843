package data

// OpenImages: every named dataset as an ImageSet, so that training and
// evaluation read IDX and CIFAR the same way. Image folders have no name;
// LoadFolder reads them.

import (
	"fmt"
	"slices"
	"strings"
)

// ImageDatasets lists every name OpenImages knows, sorted: the IDX
// datasets (Datasets) and the CIFAR ones (CIFARDatasets).
func ImageDatasets() []string {
	names := append(Datasets(), CIFARDatasets()...)
	slices.Sort(names)
	return names
}

// OpenImages returns the training split (train) or the test split of a
// named dataset as an ImageSet: MNIST and Fashion-MNIST as (N,1,28,28)
// through Open, CIFAR-10 and CIFAR-100 as (N,3,32,32) through OpenCIFAR,
// each found, or downloaded, as those say. Its Mean and Std are empty: set
// them (from the training split's Measure, or a preset such as
// CIFAR10Mean) before training reads it through Fill.
func OpenImages(name, flagDir string, train bool) (*ImageSet, error) {
	if _, ok := cifarDatasets[name]; ok {
		return OpenCIFAR(name, flagDir, train)
	}
	if _, ok := idxDatasets[name]; ok {
		s, err := Open(name, flagDir, train)
		if err != nil {
			return nil, err
		}
		return s.ImageSet(), nil
	}
	return nil, fmt.Errorf("unknown dataset %q (known: %s)", name, strings.Join(ImageDatasets(), ", "))
}
