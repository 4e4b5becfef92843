package nn

import (
	"math"
	"testing"
)

func TestArenaRecyclesAfterResetAndReleaseTo(t *testing.T) {
	var none *Arena
	if z := none.Uninit(2, 3); len(z.Data) != 6 || z.Data[0] != 0 {
		t.Fatalf("a nil arena gives a fresh zero tensor, got %v", z.Data)
	}
	a := NewArena()
	a.Poison = true
	first := a.Uninit(4)
	first.Data[0] = 7
	mark := a.Mark()
	projection := a.Uninit(4)
	a.ReleaseTo(mark)
	if again := a.Uninit(4); &again.Data[0] != &projection.Data[0] {
		t.Error("ReleaseTo did not give the buffer handed out after Mark back")
	} else if !math.IsNaN(float64(again.Data[0])) {
		t.Error("a poisoned arena must fill taken-back buffers with NaN")
	}
	if first.Data[0] != 7 {
		t.Error("ReleaseTo touched a buffer handed out before Mark")
	}
	a.Reset()
	z := a.Zeros(2, 2)
	if &z.Data[0] != &first.Data[0] && &z.Data[0] != &projection.Data[0] {
		t.Error("Reset did not make the buffers available again")
	}
	for _, v := range z.Data {
		if v != 0 {
			t.Fatalf("Zeros gave %v", z.Data)
		}
	}
	if other := a.Uninit(5); len(other.Data) != 5 {
		t.Errorf("a new length gives a new buffer of that length, got %d", len(other.Data))
	}
}

func TestArenaReleaseTakesBackOnlyItsOwn(t *testing.T) {
	a := NewArena()
	g := a.Uninit(8)
	a.Release(New(8)) // not the arena's: nothing happens
	a.Release(g)
	if again := a.Uninit(8); &again.Data[0] != &g.Data[0] {
		t.Error("a released buffer is not handed out again")
	}
	if other := a.Uninit(8); &other.Data[0] == &g.Data[0] {
		t.Error("one buffer handed out twice")
	}
}

// Bytes counts what is handed out and what waits to be handed out again:
// two buffers of 10 and 6 floats are 64 bytes, before and after Reset.
func TestArenaBytes(t *testing.T) {
	a := NewArena()
	a.Uninit(2, 5)
	a.Zeros(6)
	if got := a.Bytes(); got != 64 {
		t.Fatalf("%d bytes, want 64", got)
	}
	a.Reset()
	if got := a.Bytes(); got != 64 {
		t.Fatalf("%d bytes after Reset, want 64", got)
	}
	if (*Arena)(nil).Bytes() != 0 {
		t.Fatal("a nil arena holds bytes")
	}
}
