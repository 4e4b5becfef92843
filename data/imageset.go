package data

// ImageSet: N labelled pictures of C×H×W bytes, the one in-memory form that
// IDX, CIFAR and image folders all load into, and what training reads
// through Fill. It holds bytes, not floats (a quarter of the memory); the
// float view is made one sample at a time. No augmentation here (see
// Transform and Loader).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// ImageSet is a labelled set of N pictures, each C×H×W bytes (0 black, 255
// full intensity), planar: picture i is Pix[i*C*H*W : (i+1)*C*H*W], its
// channels one after the other (R, G, B for C = 3), each plane row-major.
// This is the (N,C,H,W) layout of a model's input, so sample i's float
// values line up with the tensor a model reads.
//
// Its Len, Shape and Fill are train.Source's method set, so an *ImageSet
// can be handed to train.Fit and train.Evaluate as it is; Fill applies the
// per-channel Mean and Std.
type ImageSet struct {
	N, C, H, W int
	Pix        []uint8
	Labels     []int    // N labels, each in [0, len(Classes)) when Classes is set
	Classes    []string // class names indexed by label; nil when unknown

	// Mean and Std are the normalisation Fill applies, one value per
	// channel or one for all; empty leaves the [0,1] values. They are
	// torchvision's Normalize(mean, std) after ToTensor.
	Mean, Std []float32
}

// Len is the number of pictures, N.
func (s *ImageSet) Len() int { return s.N }

// Shape is one picture's shape, (C,H,W).
func (s *ImageSet) Shape() []int { return []int{s.C, s.H, s.W} }

// Image returns picture i's C*H*W bytes, sharing Pix.
func (s *ImageSet) Image(i int) []uint8 {
	n := s.C * s.H * s.W
	return s.Pix[i*n : (i+1)*n : (i+1)*n]
}

// Fill writes picture i into dst (len C*H*W) as torchvision's ToTensor and
// Normalize do, and returns its label:
//
//	dst[(c*H+y)*W+x] = (float32(pix)/255 - Mean[c]) / Std[c]
//
// It panics when i is out of range, when dst has another length, or when
// Mean or Std has neither 0, 1 nor C values.
func (s *ImageSet) Fill(i int, dst []float32) int {
	pix := s.Image(i)
	if len(dst) != len(pix) {
		panic(fmt.Sprintf("data.ImageSet.Fill: dst holds %d values, a picture %d", len(dst), len(pix)))
	}
	plane := s.H * s.W
	for c := range s.C {
		m, sd := channelValue(s.Mean, c, s.C, 0, "Mean"), channelValue(s.Std, c, s.C, 1, "Std")
		// A 256-entry table is exact: the same expression as Set.Float.
		var lut [256]float32
		for p := range lut {
			lut[p] = (float32(p)/255 - m) / sd
		}
		src, out := pix[c*plane:(c+1)*plane], dst[c*plane:(c+1)*plane]
		for j, p := range src {
			out[j] = lut[p]
		}
	}
	return s.Labels[i]
}

// channelValue picks channel c's value from v (0, 1 or n values).
func channelValue(v []float32, c, n int, def float32, what string) float32 {
	switch len(v) {
	case 0:
		return def
	case 1:
		return v[0]
	case n:
		return v[c]
	}
	panic(fmt.Sprintf("data: %d %s values for %d channels", len(v), what, n))
}

// Measure returns the mean and standard deviation of every pixel of every
// picture, per channel, on the [0,1] scale: what Normalize's mean and std
// are measured as (the CIFAR-10 training set gives CIFAR10Mean and, within
// rounding, CIFAR10Std). An empty set gives zeros.
func (s *ImageSet) Measure() (mean, std []float32) {
	mean, std = make([]float32, s.C), make([]float32, s.C)
	plane := s.H * s.W
	if s.N == 0 || plane == 0 {
		return mean, std
	}
	for c := range s.C {
		// Count bytes per value: exact sums, fast, and no float drift.
		var hist [256]int64
		for i := range s.N {
			for _, p := range s.Image(i)[c*plane : (c+1)*plane] {
				hist[p]++
			}
		}
		var sum, sq float64
		for p, k := range hist {
			v := float64(p) / 255
			sum += float64(k) * v
			sq += float64(k) * v * v
		}
		n := float64(s.N * plane)
		m := sum / n
		mean[c] = float32(m)
		std[c] = float32(math.Sqrt(max(sq/n-m*m, 0)))
	}
	return mean, std
}

// Subset returns the pictures idx (in that order) as a new set that shares
// nothing with s but Classes, Mean and Std. It panics on an index out of
// range.
func (s *ImageSet) Subset(idx []int) *ImageSet {
	per := s.C * s.H * s.W
	out := &ImageSet{N: len(idx), C: s.C, H: s.H, W: s.W, Classes: s.Classes, Mean: s.Mean, Std: s.Std,
		Pix: make([]uint8, 0, len(idx)*per), Labels: make([]int, 0, len(idx))}
	for _, i := range idx {
		out.Pix = append(out.Pix, s.Image(i)...)
		out.Labels = append(out.Labels, s.Labels[i])
	}
	return out
}

// Split divides s into a training and a validation set, stratified: from
// each class, round(valFraction·n) of its n pictures, drawn by a
// permutation seeded with (seed, label), go to val and the rest to train.
// Both keep s's order. The same s, fraction and seed always give the same
// split, and each class keeps its share in both sets (a class of one
// picture stays in train unless valFraction rounds it over). valFraction
// must be in [0,1].
func (s *ImageSet) Split(valFraction float64, seed uint64) (train, val *ImageSet, err error) {
	if !(valFraction >= 0 && valFraction <= 1) {
		return nil, nil, fmt.Errorf("data: validation fraction %v is not in [0,1]", valFraction)
	}
	byClass := map[int][]int{}
	for i, l := range s.Labels[:s.N] {
		byClass[l] = append(byClass[l], i)
	}
	inVal := make([]bool, s.N)
	for label, idx := range byClass {
		rng := rand.New(rand.NewPCG(seed, uint64(label)))
		k := int(math.Round(valFraction * float64(len(idx))))
		for _, p := range rng.Perm(len(idx))[:k] {
			inVal[idx[p]] = true
		}
	}
	var tr, va []int
	for i, v := range inVal {
		if v {
			va = append(va, i)
		} else {
			tr = append(tr, i)
		}
	}
	return s.Subset(tr), s.Subset(va), nil
}

// Check reports the first label outside [0, len(Classes)) (when Classes is
// set) and any disagreement between N, Pix and Labels.
func (s *ImageSet) Check() error {
	if s.N < 0 || s.C <= 0 || s.H <= 0 || s.W <= 0 {
		return fmt.Errorf("data: %d pictures of %dx%dx%d", s.N, s.C, s.H, s.W)
	}
	if len(s.Pix) != s.N*s.C*s.H*s.W || len(s.Labels) != s.N {
		return fmt.Errorf("data: %d pictures of %dx%dx%d but %d bytes and %d labels", s.N, s.C, s.H, s.W, len(s.Pix), len(s.Labels))
	}
	if s.Classes == nil {
		return nil
	}
	if i := slices.IndexFunc(s.Labels, func(l int) bool { return l < 0 || l >= len(s.Classes) }); i >= 0 {
		return fmt.Errorf("data: label %d of picture %d is not a class (0..%d)", s.Labels[i], i, len(s.Classes)-1)
	}
	return nil
}

// ImageSet returns s as a one-channel ImageSet, (N,1,H,W), sharing its
// pixels and class names.
func (s *Set) ImageSet() *ImageSet {
	labels := make([]int, len(s.Labels))
	for i, l := range s.Labels {
		labels[i] = int(l)
	}
	return &ImageSet{N: s.Images.N, C: 1, H: s.Images.H, W: s.Images.W, Pix: s.Images.Pix, Labels: labels, Classes: s.Classes}
}
