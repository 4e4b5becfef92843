package session

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/convscope/convscope/zoo"
)

// errTooBig reports a request larger than the whole budget.
var errTooBig = errors.New("larger than the whole budget")

// PassCost estimates the memory a session holds for one kept forward pass
// of a model: every layer's output (a mark that only names another tensor,
// an identity shortcut, holds nothing of its own) and the input, as float32,
// twice over for the buffers a projection walks back with; and the largest
// convolution's unrolled input (im2col: MACs / output channels floats),
// the scratch a pass or a projection borrows while it runs (VGG-16's first
// block: 115 MB).
func PassCost(s *zoo.Summary) int64 {
	n := int64(1)
	for _, d := range s.Input {
		n *= int64(d)
	}
	var scratch int64
	for _, l := range s.Layers {
		if l.Type == "Conv2d" && len(l.Output) > 0 && l.Output[0] > 0 {
			scratch = max(scratch, l.MACs/int64(l.Output[0]))
		}
		if l.Parts > 0 || l.Type == "Identity" {
			continue
		}
		k := int64(1)
		for _, d := range l.Output {
			k *= int64(d)
		}
		n += k
	}
	return 2*4*n + 4*scratch
}

// Budget shares memory among the forward passes sessions keep (a VGG-16
// pass at 224 holds about 300 MB until its page goes quiet or leaves). A
// run takes its pass's cost before it starts and gives it back when the
// pass is forgotten; a run that does not fit waits in line, told its place,
// and a small pass that fits goes ahead of a large one waiting (so a class
// on LeNet-5 stays interactive while someone explores VGG-16), until the
// large one has waited Patience: from then on its bytes are reserved, and
// only runs that fit beside it go ahead, so that it is not starved by
// small ones that keep taking back what they give. It is safe for
// concurrent use; a nil *Budget admits everything.
type Budget struct {
	// Patience is how long a run waits before the bytes it needs are
	// reserved for it (DefaultPatience when zero).
	Patience time.Duration

	mu      sync.Mutex
	total   int64
	free    int64
	line    []*waiter     // waiting runs, in arrival order
	changed chan struct{} // closed and replaced when bytes come back or the line moves
}

type waiter struct {
	n     int64
	since time.Time
}

// DefaultPatience is Budget.Patience's default: a few of a large model's
// runs.
const DefaultPatience = 3 * time.Second

// reserved is the bytes held back for a waiter ahead of w that has waited
// Patience (the first such in line); b.mu is held.
func (b *Budget) reserved(w *waiter) int64 {
	patience := b.Patience
	if patience <= 0 {
		patience = DefaultPatience
	}
	for _, o := range b.line {
		if o == w {
			return 0
		}
		if time.Since(o.since) >= patience {
			return o.n
		}
	}
	return 0
}

// NewBudget makes a budget of total bytes.
func NewBudget(total int64) *Budget {
	return &Budget{total: total, free: total, changed: make(chan struct{})}
}

// InUse is the bytes taken now.
func (b *Budget) InUse() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total - b.free
}

// Waiting is the number of runs in line now.
func (b *Budget) Waiting() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.line)
}

// Total is the budget's size in bytes.
func (b *Budget) Total() int64 {
	if b == nil {
		return 0
	}
	return b.total
}

// Acquire takes n bytes, waiting while they are spoken for; wait, if not
// nil, is called with the number of runs ahead each time it changes while
// this one waits. It fails when ctx ends first, and at once for more than
// the whole budget.
func (b *Budget) Acquire(ctx context.Context, n int64, wait func(ahead int)) error {
	if b == nil {
		return nil
	}
	if n > b.total {
		return errTooBig
	}
	w := &waiter{n: n, since: time.Now()}
	b.mu.Lock()
	b.line = append(b.line, w)
	b.mu.Unlock()
	told := -1
	for {
		b.mu.Lock()
		ahead := 0
		for _, o := range b.line {
			if o == w {
				break
			}
			ahead++
		}
		if n <= b.free-b.reserved(w) {
			b.free -= n
			b.leave(w)
			b.mu.Unlock()
			return nil
		}
		changed := b.changed
		b.mu.Unlock()
		if ahead != told && wait != nil {
			wait(ahead)
			told = ahead
		}
		// (A run ahead coming to its patience only holds this one back
		// more: nothing to look at again until bytes come back.)
		select {
		case <-changed:
		case <-ctx.Done():
			b.mu.Lock()
			b.leave(w)
			b.mu.Unlock()
			return ctx.Err()
		}
	}
}

// TryAcquire takes n bytes if they are free now beside any reservation
// (as Acquire would at once); it never waits.
func (b *Budget) TryAcquire(n int64) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.free-b.reserved(nil) {
		return false
	}
	b.free -= n
	return true
}

// leave takes w out of the line and wakes the others; b.mu is held.
func (b *Budget) leave(w *waiter) {
	for i, o := range b.line {
		if o == w {
			b.line = append(b.line[:i], b.line[i+1:]...)
			break
		}
	}
	b.wake()
}

func (b *Budget) wake() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// Release gives n bytes back.
func (b *Budget) Release(n int64) {
	if b == nil || n == 0 {
		return
	}
	b.mu.Lock()
	b.free = min(b.free+n, b.total)
	b.wake()
	b.mu.Unlock()
}

// Free is the number of bytes not taken.
func (b *Budget) Free() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.free
}
