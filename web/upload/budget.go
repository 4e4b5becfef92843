package upload

import (
	"context"
	"image"
	"image/color"
	"sync"
)

// budget shares a number of bytes among the uploads being read or decoded
// at once: each takes its cost before the work and gives it back after, and
// waits while the rest is spoken for. It is a weighted semaphore.
type budget struct {
	mu    sync.Mutex
	free  int64
	total int64
	freed chan struct{} // closed and replaced when bytes come back
}

func newBudget(total int64) *budget {
	return &budget{free: total, total: total, freed: make(chan struct{})}
}

// take waits until n bytes are free and takes them; false when ctx ends
// first or n is more than the whole budget.
func (b *budget) take(ctx context.Context, n int64) bool {
	if n > b.total {
		return false
	}
	for {
		b.mu.Lock()
		if n <= b.free {
			b.free -= n
			b.mu.Unlock()
			return true
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return false
		}
	}
}

// give returns n bytes and wakes the waiters.
func (b *budget) give(n int64) {
	b.mu.Lock()
	b.free += n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// decodeCost is what decoding a picture of cfg holds at its peak: the
// decoded pixels at their colour model's size (a 16-bit RGBA PNG is 8 bytes
// a pixel, a CMYK JPEG 4, a grey one 1), the RGBA copy OverWhite makes of a
// picture that may be transparent, and the JPEG decoder's working planes.
func decodeCost(cfg image.Config, format string) int64 {
	px := int64(cfg.Width) * int64(cfg.Height)
	var per int64
	switch cfg.ColorModel {
	case color.GrayModel:
		per = 1
	case color.Gray16Model:
		per = 2
	case color.RGBA64Model, color.NRGBA64Model:
		per = 8 + 4 // and the 8-bit copy
	case color.RGBAModel, color.NRGBAModel:
		per = 4 + 4
	default: // paletted, YCbCr, CMYK
		per = 4 + 4
	}
	if format == "jpeg" {
		per += 4 // progressive JPEGs keep every coefficient until the end
	}
	return px * per
}
