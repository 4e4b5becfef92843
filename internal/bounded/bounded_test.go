package bounded

import "testing"

// fake records whether Run failed, without ending the test.
type fake struct {
	testing.TB
	failed string
}

func (f *fake) Helper() {}
func (f *fake) Fatalf(format string, args ...any) {
	f.failed = format
	panic(f) // Fatalf must not return; the test recovers it
}

func run(limit uint64, work func()) (failed bool) {
	f := &fake{}
	defer func() {
		if p := recover(); p != nil {
			if p != f {
				panic(p)
			}
			failed = true
		}
	}()
	Run(f, "work", limit, work)
	return false
}

var sink []byte

func TestRunChecksMemory(t *testing.T) {
	if run(1<<30, func() { sink = make([]byte, 1<<20) }) {
		t.Error("1 MiB failed a 1 GiB limit")
	}
	if !run(1<<10, func() { sink = make([]byte, 1<<20) }) {
		t.Error("1 MiB passed a 1 KiB limit")
	}
}
