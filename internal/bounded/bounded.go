// Package bounded is a test helper for the fuzz targets of the readers of
// outside input (safetensors, .pth, IDX, CIFAR, uploads, websocket
// messages): whatever the input, the work must end, and within a memory
// bound. It is not a limit the code enforces, only the check of one.
package bounded

import (
	"runtime"
	"testing"
	"time"
)

// Timeout is how long one piece of work may run.
const Timeout = 10 * time.Second

// Run runs work and fails t if it has not returned after Timeout or has
// allocated more than limit bytes on the heap (all goroutines count, so a
// limit needs some slack). what names the work in the failure.
func Run(t testing.TB, what string, limit uint64, work func()) {
	t.Helper()
	done := make(chan uint64, 1)
	go func() {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		work()
		runtime.ReadMemStats(&after)
		done <- after.TotalAlloc - before.TotalAlloc
	}()
	select {
	case n := <-done:
		if n > limit {
			t.Fatalf("%s allocated %d bytes (limit %d)", what, n, limit)
		}
	case <-time.After(Timeout):
		t.Fatalf("%s: still running after %s", what, Timeout)
	}
}
