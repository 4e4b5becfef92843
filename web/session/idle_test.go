package session_test

import (
	"bytes"
	"image/png"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/samples"
	"github.com/convscope/convscope/web/session"
	"github.com/convscope/convscope/web/upload"
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
	base, err := catalog.Untrained("lenet5", 1)
	if err != nil {
		t.Fatal(err)
	}
	models := &holds{Catalog: base}
	var b bytes.Buffer
	if err := png.Encode(&b, sampleImage()); err != nil {
		t.Fatal(err)
	}
	h := session.New(models, upload.NewStore(8, time.Hour), samples.New(fstest.MapFS{"fashion-mnist/00-coat.png": {Data: b.Bytes()}}),
		slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	h.IdleRelease = time.Second
	srv := httptest.NewServer(h.Routes())
	defer srv.Close()
	f := &fixture{srv: srv, models: base}
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
