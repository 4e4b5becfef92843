package data

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/train"
)

// An ImageSet is what train reads.
var _ train.Source = (*ImageSet)(nil)

// A train.Tensors is what a Loader reads.
var _ Dataset = (*train.Tensors)(nil)

// randomSet is n random 3x8x8 pictures, label i%5.
func randomSet(n int) *ImageSet {
	r := pcg(1, 2)
	s := &ImageSet{N: n, C: 3, H: 8, W: 8, Pix: make([]uint8, n*192), Labels: make([]int, n)}
	for i := range s.Pix {
		s.Pix[i] = uint8(r.IntN(256))
	}
	for i := range s.Labels {
		s.Labels[i] = i % 5
	}
	return s
}

func augment() Transform {
	return Compose{
		RandomCrop{Height: 8, Width: 8, Padding: 2},
		RandomHorizontalFlip{P: 0.5},
		Normalize{Mean: CIFAR10Mean, Std: CIFAR10Std},
		RandomErasing{P: 0.5},
	}
}

func collect(t *testing.T, l *Loader, epoch int) []*Batch {
	t.Helper()
	var out []*Batch
	for b, err := range l.Epoch(context.Background(), epoch) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func sameBatches(a, b []*Batch) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !slices.Equal(a[i].X.Shape, b[i].X.Shape) || !slices.Equal(a[i].X.Data, b[i].X.Data) ||
			!slices.Equal(a[i].Labels, b[i].Labels) || !slices.Equal(a[i].Index, b[i].Index) {
			return false
		}
	}
	return true
}

func TestLoaderSameBatchesWithAnyWorkers(t *testing.T) {
	s := randomSet(37)
	base := collect(t, &Loader{Data: s, Transform: augment(), BatchSize: 5, Shuffle: true, Seed: 42, Workers: 1, Prefetch: 1}, 3)
	if len(base) != 8 || base[7].X.Shape[0] != 2 || !slices.Equal(base[0].X.Shape, []int{5, 3, 8, 8}) {
		t.Fatalf("%d batches, first %v, last %v", len(base), base[0].X.Shape, base[len(base)-1].X.Shape)
	}
	for _, w := range []int{2, 4, 7} {
		for _, p := range []int{1, 3, 0} {
			got := collect(t, &Loader{Data: s, Transform: augment(), BatchSize: 5, Shuffle: true, Seed: 42, Workers: w, Prefetch: p}, 3)
			if !sameBatches(got, base) {
				t.Fatalf("%d workers, prefetch %d: batches differ from 1 worker's", w, p)
			}
		}
	}
	// Every sample once per epoch, labels with it.
	var seen []int
	for _, b := range base {
		for k, i := range b.Index {
			seen = append(seen, i)
			if b.Labels[k] != s.Labels[i] {
				t.Fatalf("sample %d labelled %d", i, b.Labels[k])
			}
		}
	}
	slices.Sort(seen)
	for i, v := range seen {
		if v != i {
			t.Fatalf("epoch visits %v", seen)
		}
	}
	// Another epoch, another order and other augmentations; another seed too.
	other := collect(t, &Loader{Data: s, Transform: augment(), BatchSize: 5, Shuffle: true, Seed: 42}, 4)
	if slices.Equal(other[0].Index, base[0].Index) {
		t.Fatal("epochs 3 and 4 start with the same samples")
	}
	reseeded := collect(t, &Loader{Data: s, Transform: augment(), BatchSize: 5, Shuffle: true, Seed: 43}, 3)
	if sameBatches(reseeded, base) {
		t.Fatal("seeds 42 and 43 give the same epoch")
	}
	drop := &Loader{Data: s, BatchSize: 5, DropLast: true}
	if n := len(collect(t, drop, 0)); n != 7 || drop.Batches() != 7 {
		t.Fatalf("drop last: %d batches", n)
	}
}

func TestLoaderSampleDependsOnlyOnSeedEpochIndex(t *testing.T) {
	// The same sample gets the same augmentation whatever the batch size
	// and order: its generator is SampleRand(seed, epoch, index).
	s := randomSet(23)
	per := 3 * 8 * 8
	bySample := func(l *Loader) map[int][]float32 {
		m := map[int][]float32{}
		for _, b := range collect(t, l, 1) {
			for k, i := range b.Index {
				m[i] = b.X.Data[k*per : (k+1)*per]
			}
		}
		return m
	}
	a := bySample(&Loader{Data: s, Transform: augment(), BatchSize: 4, Shuffle: true, Seed: 7, Workers: 3})
	b := bySample(&Loader{Data: s, Transform: augment(), BatchSize: 9, Seed: 7, Workers: 2})
	for i := range s.N {
		if !slices.Equal(a[i], b[i]) {
			t.Fatalf("sample %d differs between batch sizes", i)
		}
		x := nn.New(3, 8, 8)
		s.Fill(i, x.Data)
		want := augment().Apply(x, SampleRand(7, 1, i))
		if !slices.Equal(a[i], want.Data) {
			t.Fatalf("sample %d is not augment(sample, SampleRand(7, 1, %d))", i, i)
		}
	}
}

func TestLoaderPlainBatchesAreFill(t *testing.T) {
	s := randomSet(6)
	s.Mean, s.Std = []float32{0.5}, []float32{0.25}
	bs := collect(t, &Loader{Data: s, BatchSize: 4}, 0)
	if len(bs) != 2 || !slices.Equal(bs[0].Index, []int{0, 1, 2, 3}) || !slices.Equal(bs[1].Index, []int{4, 5}) {
		t.Fatalf("unshuffled order: %v %v", bs[0].Index, bs[1].Index)
	}
	x := make([]float32, 192)
	for i := range 6 {
		s.Fill(i, x)
		b := bs[i/4]
		if !slices.Equal(b.X.Data[i%4*192:(i%4+1)*192], x) {
			t.Fatalf("sample %d is not Fill's", i)
		}
	}
}

// countingSet counts Fill calls.
type countingSet struct {
	*ImageSet
	fills atomic.Int32
}

func (c *countingSet) Fill(i int, dst []float32) int { c.fills.Add(1); return c.ImageSet.Fill(i, dst) }

func TestLoaderPrefetchIsBounded(t *testing.T) {
	s := &countingSet{ImageSet: randomSet(40)}
	l := &Loader{Data: s, BatchSize: 1, Workers: 4, Prefetch: 2}
	n := 0
	for _, err := range l.Epoch(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		time.Sleep(20 * time.Millisecond) // a slow consumer
		// Batch n is taken; at most Prefetch more have been dispatched.
		if got := s.fills.Load(); got > int32(n+2) {
			t.Fatalf("after %d batches, %d samples read (prefetch 2)", n, got)
		}
		if n == 4 {
			break
		}
	}
}

func TestLoaderStopsItsWorkers(t *testing.T) {
	before := runtime.NumGoroutine()
	s := randomSet(200)
	l := &Loader{Data: s, Transform: augment(), BatchSize: 2, Workers: 6, Shuffle: true}
	for range l.Epoch(context.Background(), 0) {
		break
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var err error
	n := 0
	for _, e := range l.Epoch(ctx, 1) {
		if e != nil {
			err = e
			break
		}
		if n++; n == 3 {
			cancel()
		}
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v", err)
	}
	// Epoch returns only once its goroutines have.
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("%d goroutines before, %d after", before, after)
	}
}

// shapeShifter gives odd samples another shape.
type shapeShifter struct{}

func (shapeShifter) Apply(x *nn.Tensor, rng *rand.Rand) *nn.Tensor {
	if x.Data[0] < 0 {
		return nn.New(1, 2, 2)
	}
	return x
}

func TestLoaderErrors(t *testing.T) {
	s := randomSet(4)
	s.Mean, s.Std = []float32{0.5}, []float32{1}
	s.Pix[192] = 0 // sample 1 starts below the mean
	s.Pix[0] = 255
	l := &Loader{Data: s, Transform: shapeShifter{}, BatchSize: 4}
	var err error
	for _, e := range l.Epoch(context.Background(), 0) {
		err = e
	}
	if err == nil || !strings.Contains(err.Error(), "sample 1 transforms to [1, 2, 2]") {
		t.Fatalf("shape change: %v", err)
	}
	l = &Loader{Data: s, Transform: RandomCrop{Height: 9, Width: 9}, BatchSize: 2}
	err = nil
	for _, e := range l.Epoch(context.Background(), 0) {
		err = e
	}
	if err == nil || !strings.Contains(err.Error(), "larger than the padded picture") {
		t.Fatalf("panicking transform: %v", err)
	}
	for _, e := range (&Loader{Data: s}).Epoch(context.Background(), 0) {
		err = e
	}
	if err == nil || !strings.Contains(err.Error(), "BatchSize") {
		t.Fatalf("zero batch size: %v", err)
	}
}

func TestAugmentedMatchesLoader(t *testing.T) {
	s := randomSet(11)
	tr := Compose{augment(), RandomResizedCrop{Height: 5, Width: 5}}
	a := Augment(s, tr, 9)
	var _ train.Source = a
	if !slices.Equal(a.Shape(), []int{3, 5, 5}) || a.Len() != 11 {
		t.Fatalf("shape %v, len %d", a.Shape(), a.Len())
	}
	for _, epoch := range []int{0, 2} {
		a.SetEpoch(epoch)
		l := &Loader{Data: s, Transform: tr, BatchSize: 3, Shuffle: true, Seed: 9, Workers: 2}
		x := make([]float32, 75)
		for _, b := range collect(t, l, epoch) {
			for k, i := range b.Index {
				if label := a.Fill(i, x); label != b.Labels[k] || !slices.Equal(x, b.X.Data[k*75:(k+1)*75]) {
					t.Fatalf("epoch %d sample %d: Augmented and Loader differ", epoch, i)
				}
			}
		}
	}
}

// BenchmarkLoaderCIFAR is one epoch of 4096 CIFAR-sized samples through
// the usual CIFAR augmentation, in batches of 128.
func BenchmarkLoaderCIFAR(b *testing.B) {
	r := pcg(1, 1)
	s := &ImageSet{N: 4096, C: 3, H: 32, W: 32, Pix: make([]uint8, 4096*3072), Labels: make([]int, 4096)}
	for i := range s.Pix {
		s.Pix[i] = uint8(r.IntN(256))
	}
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(workersName(workers), func(b *testing.B) {
			l := &Loader{Data: s, BatchSize: 128, Shuffle: true, Workers: workers, Transform: Compose{
				RandomCrop{Height: 32, Width: 32, Padding: 4}, RandomHorizontalFlip{P: 0.5},
				Normalize{Mean: CIFAR10Mean, Std: CIFAR10Std}}}
			for i := range b.N {
				for _, err := range l.Epoch(context.Background(), i) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*s.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

func workersName(n int) string { return "workers=" + strconv.Itoa(n) }
