package session_test

import (
	"sync"
	"testing"
	"time"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/session"
)

// holds counts the catalog holds sessions take and give back.
type holds struct {
	*catalog.Catalog
	mu               sync.Mutex
	opened, released int
}

func (h *holds) Open(name string) (*catalog.Model, error) {
	m, err := h.Catalog.Open(name)
	if err == nil {
		h.mu.Lock()
		h.opened++
		h.mu.Unlock()
	}
	return m, err
}

func (h *holds) Release(m *catalog.Model) {
	if m != nil {
		h.mu.Lock()
		h.released++
		h.mu.Unlock()
	}
	h.Catalog.Release(m)
}

func (h *holds) count() (int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.opened, h.released
}

// A session holds one model at a time; a quiet session forgets its pass
// and gives its hold back (a projection then asks for a run), and so does
// a closed one.
func TestSessionsGiveBackWhatTheyHold(t *testing.T) {
	var models *holds
	f := serveModel(t, "lenet5", func(c *catalog.Catalog) session.Models {
		models = &holds{Catalog: c}
		return models
	}, func(h *session.Handler) { h.IdleRelease = time.Second })
	c := f.dial(t)
	for range 3 {
		c.run(f, `{"type":"run","sample":"00-coat.png"}`)
	}
	if o, r := models.count(); o != 3 || r != 2 {
		t.Fatalf("after three runs: %d holds taken, %d given back; want 3 and 2", o, r)
	}
	c.project(`{"type":"project","layer":"c3","channel":1}`) // a message keeps the pass
	time.Sleep(2 * time.Second)
	if o, r := models.count(); o != 3 || r != 3 {
		t.Fatalf("after a quiet while: %d holds taken, %d given back; want 3 and 3", o, r)
	}
	c.errorFor(`{"type":"project","layer":"c3","channel":1}`, "run a picture first")
	c.run(f, `{"type":"run","sample":"00-coat.png"}`)
	c.conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if o, r := models.count(); o == 4 && r == 4 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	o, r := models.count()
	t.Fatalf("after the page left: %d holds taken, %d given back; want 4 and 4", o, r)
}
