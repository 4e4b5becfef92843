package nn

import (
	"math"
	"sync"
)

// Arena recycles the tensors of a repeated pass, as a training step: the
// layers take their outputs and gradients from it, and Reset makes every
// buffer handed out since the last Reset available again. The next step has
// the same shapes, so after the first it allocates nothing: no garbage for
// the collector, no zeroing of fresh memory, and buffers that are still in
// cache. Whoever calls Reset promises that nothing handed out before is
// used again. A web session keeps its latest pass for projections: it marks
// the arena after the pass and takes back each projection's buffers with
// ReleaseTo. A nil *Arena allocates with New (the CLI's single passes).
type Arena struct {
	// Poison makes Reset fill the buffers it takes back with NaN, so that a
	// layer that reads an Uninit value before writing it shows in tests.
	Poison bool

	mu   sync.Mutex
	free map[int][][]float32 // by length
	used [][]float32
}

// NewArena returns an empty arena.
func NewArena() *Arena { return &Arena{free: map[int][][]float32{}} }

// Reset takes back every buffer handed out since the last Reset.
func (a *Arena) Reset() {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.release(0)
}

// release takes back used[mark:]; a.mu is held.
func (a *Arena) release(mark int) {
	if mark < 0 || mark > len(a.used) {
		return
	}
	for _, b := range a.used[mark:] {
		a.takeBack(b)
	}
	a.used = a.used[:mark]
}

// takeBack makes b available again (poisoned if asked); a.mu is held.
func (a *Arena) takeBack(b []float32) {
	if a.Poison {
		for i := range b {
			b[i] = float32(math.NaN())
		}
	}
	a.free[len(b)] = append(a.free[len(b)], b)
}

// Mark is the arena's position: ReleaseTo(Mark()) later takes back what was
// handed out in between and keeps what was handed out before, as the web
// keeps a forward pass and takes back each projection's tensors.
func (a *Arena) Mark() int {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.used)
}

// ReleaseTo takes back the buffers handed out since Mark returned mark.
func (a *Arena) ReleaseTo(mark int) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.release(mark)
}

// Release takes back t's buffer now, before the pass ends, if the arena
// handed it out: for a gradient the layer below has consumed. The caller
// promises that nothing uses t (or a tensor sharing its values) again.
func (a *Arena) Release(t *Tensor) {
	if a == nil || t == nil || len(t.Data) == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.used) - 1; i >= 0; i-- {
		if b := a.used[i]; len(b) == len(t.Data) && &b[0] == &t.Data[0] {
			// The last buffer fills the gap: handed out after b, it is
			// above any Mark that b is above.
			last := len(a.used) - 1
			a.used[i], a.used[last] = a.used[last], nil
			a.used = a.used[:last]
			a.takeBack(b)
			return
		}
	}
}

// Zeros is a zero tensor of the given shape.
func (a *Arena) Zeros(shape ...int) *Tensor {
	t := a.Uninit(shape...)
	if a != nil {
		clear(t.Data)
	}
	return t
}

// Uninit is a tensor of the given shape whose values are left over from an
// earlier use: for outputs that the caller overwrites entirely. From a nil
// arena it is a zero tensor.
func (a *Arena) Uninit(shape ...int) *Tensor {
	if a == nil {
		return New(shape...)
	}
	n := Numel(shape)
	a.mu.Lock()
	defer a.mu.Unlock()
	var b []float32
	if f := a.free[n]; len(f) > 0 {
		b, a.free[n] = f[len(f)-1], f[:len(f)-1]
	} else {
		b = make([]float32, n)
	}
	a.used = append(a.used, b)
	return &Tensor{Shape: append([]int(nil), shape...), Data: b}
}

// Bytes is the memory the arena holds: the buffers handed out and the ones
// waiting to be handed out again.
func (a *Arena) Bytes() int64 {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var n int64
	for _, b := range a.used {
		n += int64(cap(b))
	}
	for _, list := range a.free {
		for _, b := range list {
			n += int64(cap(b))
		}
	}
	return 4 * n
}
