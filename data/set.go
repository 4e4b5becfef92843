package data

// A labelled IDX split in memory: pictures, labels, and the float view a
// model reads. No batching or augmentation here; those come after.

import (
	"fmt"
	"os"
)

// Set is one split of an IDX dataset: N pictures and their N labels.
type Set struct {
	Images  Images
	Labels  []uint8
	Classes []string // class names indexed by label; nil when unknown
}

// Len is the number of samples.
func (s *Set) Len() int { return len(s.Labels) }

// Float returns picture i as H*W float32 values, each pixel scaled to [0,1]
// and then normalised, as torchvision's ToTensor and Normalize do:
//
//	out[j] = (float32(pix[j])/255 - mean) / std
//
// mean 0 and std 1 leave the [0,1] values. It panics when i is out of range.
func (s *Set) Float(i int, mean, std float32) []float32 {
	pix := s.Images.Image(i)
	out := make([]float32, len(pix))
	for j, p := range pix {
		out[j] = (float32(p)/255 - mean) / std
	}
	return out
}

// LoadIDX reads an IDX image file and its label file (each raw or gzip)
// into a Set. Errors name the file; the two must hold the same count.
func LoadIDX(imagesPath, labelsPath string) (*Set, error) {
	var im *Images
	err := withFile(imagesPath, func(f *os.File) (err error) {
		im, err = readImages(f, imagesPath)
		return err
	})
	if err != nil {
		return nil, err
	}
	var lb []uint8
	err = withFile(labelsPath, func(f *os.File) (err error) {
		lb, err = readLabels(f, labelsPath)
		return err
	})
	if err != nil {
		return nil, err
	}
	if im.N != len(lb) {
		return nil, fmt.Errorf("%s holds %d images but %s holds %d labels", imagesPath, im.N, labelsPath, len(lb))
	}
	return &Set{Images: *im, Labels: lb}, nil
}

func withFile(path string, read func(*os.File) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return read(f)
}
