package data

// Mini-batches for training: a shuffled order per epoch, each sample read
// and transformed on worker goroutines while the consumer works on the
// batches before it, at most Prefetch batches ahead. What a batch holds
// depends only on (Seed, epoch, the sample's index): never on the number
// of workers or on how they are scheduled. No sampler for class balance,
// no distributed sharding, no pinned memory.

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/convscope/convscope/nn"
)

// Dataset is a labelled set of equally shaped samples. Its method set is
// train.Source's, so an ImageSet (or a train.Tensors) serves both. Fill
// must be safe to call from several goroutines at once (a Loader does).
type Dataset interface {
	// Len is the number of samples.
	Len() int
	// Shape is one sample's shape, (C,H,W).
	Shape() []int
	// Fill writes sample i into dst (len C*H*W) and returns its label.
	Fill(i int, dst []float32) int
}

// Loader turns a Dataset and a Transform into mini-batches, as PyTorch's
// DataLoader(dataset, batch_size, shuffle, drop_last, num_workers,
// prefetch_factor) does with a transform pipeline in the dataset:
//
//	l := &data.Loader{Data: train, BatchSize: 128, Shuffle: true, Seed: 1,
//		Transform: data.Compose{data.RandomCrop{Height: 32, Width: 32, Padding: 4},
//			data.RandomHorizontalFlip{P: 0.5}, data.Normalize{Mean: data.CIFAR10Mean, Std: data.CIFAR10Std}}}
//	for b, err := range l.Epoch(ctx, epoch) { ... b.X is (128,3,32,32) ... }
//
// The Dataset should give [0,1] values (an ImageSet with empty Mean and
// Std) when the pipeline normalises, so that padding and erasing fill
// with black as torchvision's do.
type Loader struct {
	Data      Dataset
	Transform Transform // applied to each sample, (C,H,W); nil for none
	BatchSize int
	Shuffle   bool // a new permutation every epoch, from (Seed, epoch)
	DropLast  bool // drop the last batch when it is short
	Workers   int  // goroutines preparing batches; 0 means runtime.GOMAXPROCS(0)
	Prefetch  int  // batches prepared ahead of the consumer; 0 means 2·Workers
	Seed      uint64
}

// Batch is one mini-batch. The consumer owns it.
type Batch struct {
	X      *nn.Tensor // (N,C,H,W), the transformed samples
	Labels []int      // N labels
	Index  []int      // the samples' indices in the Dataset
}

// Batches is the number of batches in one epoch.
func (l *Loader) Batches() int {
	n, b := l.Data.Len(), max(l.BatchSize, 1)
	if l.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// Order is the order in which an epoch visits the samples: 0..N-1, or
// with Shuffle a permutation drawn from (Seed, epoch).
func (l *Loader) Order(epoch int) []int {
	n := l.Data.Len()
	if !l.Shuffle {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		return order
	}
	return rand.New(rand.NewPCG(mix(l.Seed, uint64(epoch)), 1<<63)).Perm(n)
}

// SampleRand is the generator a Loader gives the Transform for sample
// index of an epoch: a PCG seeded from (seed, epoch, index) alone, so a
// sample's augmentation is the same whichever worker prepares it, and
// whatever its place in the shuffled order.
func SampleRand(seed uint64, epoch, index int) *rand.Rand {
	return rand.New(rand.NewPCG(mix(seed, uint64(epoch)), uint64(index)))
}

// mix hashes two words into one (SplitMix64's finaliser on each).
func mix(a, b uint64) uint64 { return splitmix(a ^ splitmix(b+0x9e3779b97f4a7c15)) }

func splitmix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

type batchResult struct {
	b   *Batch
	err error
}

// Epoch returns the batches of one epoch, in order, as an iterator:
//
//	for b, err := range l.Epoch(ctx, epoch) {
//		if err != nil { return err }
//		...
//	}
//
// Workers prepare batches concurrently, at most Prefetch ahead of the
// loop; stopping the loop early (break) or cancelling ctx stops them, and
// Epoch returns only once they have. An error (ctx's, a transform whose
// output shape changes from sample to sample, a panic in Fill or a
// transform) is yielded once, and the iteration ends.
func (l *Loader) Epoch(ctx context.Context, epoch int) iter.Seq2[*Batch, error] {
	return func(yield func(*Batch, error) bool) {
		if l.Data == nil || l.BatchSize <= 0 {
			yield(nil, fmt.Errorf("data: a Loader needs Data and a positive BatchSize (got %d)", l.BatchSize))
			return
		}
		order := l.Order(epoch)
		nb := l.Batches()
		workers := l.Workers
		if workers <= 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		prefetch := l.Prefetch
		if prefetch <= 0 {
			prefetch = 2 * workers
		}
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() { cancel(); wg.Wait() }()

		results := make([]chan batchResult, nb) // one slot per batch: sends never block
		for i := range results {
			results[i] = make(chan batchResult, 1)
		}
		slots := make(chan struct{}, prefetch) // batches dispatched and not yet consumed
		jobs := make(chan int)
		wg.Go(func() {
			defer close(jobs)
			for b := range nb {
				if ctx.Err() != nil {
					return
				}
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				select {
				case jobs <- b:
				case <-ctx.Done():
					return
				}
			}
		})
		for range min(workers, max(nb, 1)) {
			wg.Go(func() {
				for b := range jobs {
					idx := order[b*l.BatchSize : min((b+1)*l.BatchSize, len(order))]
					batch, err := l.build(ctx, idx, epoch)
					results[b] <- batchResult{batch, err}
				}
			})
		}
		for b := range nb {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			var r batchResult
			select {
			case r = <-results[b]:
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			}
			<-slots
			if r.err != nil {
				yield(nil, r.err)
				return
			}
			if !yield(r.b, nil) {
				return
			}
		}
	}
}

// build reads and transforms the samples idx into one batch.
func (l *Loader) build(ctx context.Context, idx []int, epoch int) (b *Batch, err error) {
	at := -1
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("data: sample %d: %v", at, r)
		}
	}()
	shape := l.Data.Shape()
	buf := make([]float32, nn.Numel(shape))
	b = &Batch{Labels: make([]int, len(idx)), Index: append([]int(nil), idx...)}
	for k, i := range idx {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		at = i
		b.Labels[k] = l.Data.Fill(i, buf)
		y := nn.FromData(buf, shape...)
		if l.Transform != nil {
			y = l.Transform.Apply(y, SampleRand(l.Seed, epoch, i))
		}
		if b.X == nil {
			b.X = nn.New(append([]int{len(idx)}, y.Shape...)...)
		} else if !nn.SameShape(y.Shape, b.X.Shape[1:]) {
			return nil, fmt.Errorf("data: sample %d transforms to %s, the batch's others to %s", i, nn.ShapeString(y.Shape), nn.ShapeString(b.X.Shape[1:]))
		}
		per := len(y.Data)
		copy(b.X.Data[k*per:(k+1)*per], y.Data)
	}
	return b, nil
}
