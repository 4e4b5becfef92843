package kernel

// Which SGEMM path runs: the fastest the CPU supports unless a test or a
// benchmark asks for another with UsePath.

import "fmt"

var (
	paths  = append(asmKernels(), goKernels)
	active = paths[0]
	// products; Sgemm reads active directly.
)

// Paths lists the SGEMM paths this build and CPU can run, fastest first:
// some of "avx512", "avx2", and always "go" (the portable kernels).
func Paths() []string {
	s := make([]string, len(paths))
	for i, p := range paths {
		s[i] = p.name
	}
	return s
}

// Path is the name of the SGEMM path Sgemm uses.
func Path() string { return active.name }

// UsePath makes Sgemm use the named path (one of Paths) and returns the one
// it replaces. It is a hook for tests and benchmarks and must not be called
// while any Sgemm runs.
func UsePath(name string) (prev string, err error) {
	for _, p := range paths {
		if p.name == name {
			prev, active = active.name, p
			return prev, nil
		}
	}
	return active.name, fmt.Errorf("kernel: SGEMM path %q not available (have %v)", name, Paths())
}
