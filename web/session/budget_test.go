package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/convscope/convscope/web/session"
	"github.com/convscope/convscope/zoo"
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
	lenet, err := zoo.Build("lenet5", nil, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := zoo.Summarize(lenet)
	if err != nil {
		t.Fatal(err)
	}
	budget := session.NewBudget(session.PassCost(sum))
	f := serveModel(t, "lenet5", nil, func(h *session.Handler) { h.Budget, h.QueueWait = budget, 5*time.Second })

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
	g := serveModel(t, "lenet5", nil, func(h *session.Handler) { h.Budget, h.QueueWait = budget, 200*time.Millisecond })
	c := g.dial(t)
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

// Four sessions cycling small passes (each gives its pass back and takes
// the next at once) keep at most 25 of 100 bytes free: under first fit a
// run of 80 would wait for ever. Once it has waited Patience, its bytes are
// reserved, the small ones wait, and it gets in.
func TestBudgetLargeRunIsNotStarved(t *testing.T) {
	b := session.NewBudget(100)
	b.Patience = 100 * time.Millisecond
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan struct{})
	for range 4 {
		if err := b.Acquire(ctx, 25, nil); err != nil {
			t.Fatal(err)
		}
		go func() {
			defer func() { done <- struct{}{} }()
			for ctx.Err() == nil {
				b.Release(25)
				if b.Acquire(ctx, 25, nil) != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
			b.Release(25)
		}()
	}
	start := time.Now()
	waitCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Acquire(waitCtx, 80, nil); err != nil {
		t.Fatalf("a run of 80 beside four cycling runs of 25: %v after %v", err, time.Since(start))
	}
	if d := time.Since(start); d < b.Patience {
		t.Logf("got in after %v, before its patience (the small runs left room)", d)
	}
	b.Release(80)
	stop()
	for range 4 {
		<-done
	}
}

// TryAcquire takes what fits at once, and never what a patient run has
// reserved.
func TestBudgetTryAcquire(t *testing.T) {
	b := session.NewBudget(100)
	b.Patience = time.Millisecond
	if !b.TryAcquire(60) || b.TryAcquire(50) || b.Free() != 40 {
		t.Fatalf("took 60 then refused 50: %d free", b.Free())
	}
	got := make(chan error)
	go func() { got <- b.Acquire(context.Background(), 80, nil) }()
	time.Sleep(20 * time.Millisecond) // the run of 80 waits past its patience
	if b.TryAcquire(10) {
		t.Fatal("took 10 of the 40 free while a patient run of 80 waits")
	}
	b.Release(60)
	if err := <-got; err != nil || b.Free() != 20 {
		t.Fatalf("the run of 80: %v, %d free", err, b.Free())
	}
}
