package session_test

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"testing/fstest"
	"time"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/samples"
	"github.com/convscope/convscope/web/session"
	"github.com/convscope/convscope/web/upload"
)

func TestBudgetLineAndPlaces(t *testing.T) {
	b := session.NewBudget(100)
	if err := b.Acquire(context.Background(), 80, nil); err != nil || b.Free() != 20 {
		t.Fatalf("took 80 of 100: %v, %d free", err, b.Free())
	}
	if err := b.Acquire(context.Background(), 101, nil); err == nil {
		t.Fatal("took more than the whole budget")
	}
	// A large run waits, told it is first in line; a small one that fits
	// goes ahead of it.
	places := make(chan int, 4)
	got := make(chan error)
	go func() { got <- b.Acquire(context.Background(), 50, func(ahead int) { places <- ahead }) }()
	if p := <-places; p != 0 {
		t.Fatalf("first in line told %d ahead", p)
	}
	if err := b.Acquire(context.Background(), 20, nil); err != nil || b.Free() != 0 {
		t.Fatalf("a small run that fits: %v, %d free", err, b.Free())
	}
	b.Release(80)
	if err := <-got; err != nil || b.Free() != 30 {
		t.Fatalf("the large run after 80 came back: %v, %d free", err, b.Free())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := b.Acquire(ctx, 40, nil); err == nil || b.Free() != 30 {
		t.Fatalf("a run that never fits: %v, %d free", err, b.Free())
	}
	var none *session.Budget
	if err := none.Acquire(context.Background(), 1<<40, nil); err != nil {
		t.Fatal("a nil budget refused")
	}
}

// With room for one LeNet-5 pass, a second page waits in line (told so)
// until the first leaves, and a third that waits too long hears the server
// is busy.
func TestRunsWaitForTheBudget(t *testing.T) {
	models, err := catalog.Untrained("lenet5", 1)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := models.Open("")
	h := session.New(models, upload.NewStore(8, time.Hour), samples.New(fstest.MapFS{"fashion-mnist/00-coat.png": {Data: coatPNG(t)}}),
		slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	h.Budget = session.NewBudget(session.PassCost(m.Summary))
	h.QueueWait = 5 * time.Second
	srv := httptest.NewServer(h.Routes())
	defer srv.Close()
	f := &fixture{srv: srv, models: models}

	a := f.dial(t)
	a.run(f, `{"type":"run","sample":"00-coat.png"}`)
	a.run(f, `{"type":"run","sample":"00-coat.png"}`) // a page's next run replaces its own pass
	b := f.dial(t)
	b.send(`{"type":"run","sample":"00-coat.png"}`)
	var q session.Queued
	b.json("queued", &q)
	if q.Ahead != 0 || q.Model != "lenet5-untrained" {
		t.Fatalf("queued %+v", q)
	}
	a.conn.Close() // a leaves: its pass's memory comes back, b runs
	var start session.Start
	b.json("start", &start)

	// A second server sharing the budget, quicker to give up: b still
	// holds the only pass.
	h2 := session.New(models, upload.NewStore(8, time.Hour), samples.New(fstest.MapFS{"fashion-mnist/00-coat.png": {Data: coatPNG(t)}}),
		slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	h2.Budget, h2.QueueWait = h.Budget, 200*time.Millisecond
	srv2 := httptest.NewServer(h2.Routes())
	defer srv2.Close()
	c := (&fixture{srv: srv2, models: models}).dial(t)
	c.send(`{"type":"run","sample":"00-coat.png"}`)
	c.json("queued", &q)
	var e session.Error
	c.json("error", &e)
	if e.Request != "run" || e.Message == "" {
		t.Fatalf("error %+v", e)
	}
	if want := "the server is busy"; len(e.Message) < len(want) || e.Message[:len(want)] != want {
		t.Fatalf("error %q, want it to start %q", e.Message, want)
	}
}

func coatPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, sampleImage()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
