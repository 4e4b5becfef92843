package zoo

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/convscope/convscope/nn"
)

//go:generate go run ./internal/fingerprints -out fingerprints.json

// fingerprintsJSON is every architecture's state_dict at its default input
// and classes: key → shape, and the keys of its classifier head, written
// by zoo/internal/fingerprints (go generate ./zoo; TestFingerprintsCurrent
// checks it), so that Identify compares without building any model.
//
//go:embed fingerprints.json
var fingerprintsJSON []byte

// Fingerprint is an architecture's state_dict shapes at its defaults.
type Fingerprint struct {
	Input   []int            `json:"input"`
	Classes int              `json:"classes"`
	Keys    map[string][]int `json:"keys"`
	// Head are the keys of the last layer with parameters, whose first
	// dimension is the class count.
	Head []string `json:"head"`
}

// FingerprintOf is m's fingerprint (the generator's and the test's).
func FingerprintOf(m *Model) Fingerprint {
	f := Fingerprint{Input: m.Input, Classes: m.Classes, Keys: map[string][]int{}}
	params := m.Net.Params()
	for _, p := range params {
		f.Keys[p.Name] = p.Value.Shape
	}
	for _, p := range m.Net.Buffers() {
		f.Keys[p.Name] = p.Value.Shape
	}
	// The head: the last parameters whose first dimension is the classes.
	for i := len(params) - 1; i >= 0 && len(params[i].Value.Shape) > 0 && params[i].Value.Shape[0] == m.Classes; i-- {
		f.Head = append(f.Head, params[i].Name)
	}
	sort.Strings(f.Head)
	return f
}

// GenerateFingerprints builds every architecture once and encodes their
// fingerprints: fingerprints.json's content.
func GenerateFingerprints() ([]byte, error) {
	all := map[string]Fingerprint{}
	for _, name := range Names() {
		m, err := Build(name, nil, 0, 0)
		if err != nil {
			return nil, err
		}
		all[name] = FingerprintOf(m)
	}
	b, err := json.Marshal(all) // maps marshal in key order: a stable file
	return append(b, '\n'), err
}

// fingerprints decodes fingerprints.json once, when a checkpoint is first
// identified (not at every program's start).
var fingerprints = sync.OnceValue(func() map[string]Fingerprint {
	var out map[string]Fingerprint
	if err := json.Unmarshal(fingerprintsJSON, &out); err != nil {
		panic("zoo: fingerprints.json: " + err.Error())
	}
	return out
})

// FingerprintFor is architecture name's fingerprint (zero if unknown).
func FingerprintFor(name string) Fingerprint { return fingerprints()[name] }

// Identify finds the architecture whose state_dict state is: the one whose
// keys are state's (BatchNorm's num_batches_tracked aside) with the same
// shapes, but for the classifier head's class count, which it returns. An
// ambiguous or unmatched state is an error naming the nearest
// architectures and how they differ.
func Identify(state map[string]*nn.Tensor) (name string, classes int, err error) {
	type near struct {
		name string
		diff []string
	}
	var matches []string
	var nearest []near
	var found int
	for _, arch := range Names() {
		f, ok := fingerprints()[arch]
		if !ok {
			continue
		}
		diff, k := compare(f, state)
		if len(diff) == 0 {
			matches = append(matches, arch)
			found = k
			continue
		}
		nearest = append(nearest, near{arch, diff})
	}
	switch len(matches) {
	case 1:
		return matches[0], found, nil
	case 0:
		sort.SliceStable(nearest, func(a, b int) bool { return len(nearest[a].diff) < len(nearest[b].diff) })
		n := nearest[0]
		more := ""
		if len(n.diff) > 3 {
			more = fmt.Sprintf(" and %d more", len(n.diff)-3)
		}
		return "", 0, fmt.Errorf("its %d tensors match no architecture of the zoo; the nearest, %s, differs: %s%s",
			len(state), n.name, strings.Join(n.diff[:min(3, len(n.diff))], "; "), more)
	}
	return "", 0, fmt.Errorf("its tensors match %s alike: name the architecture (NAME=FILE)", strings.Join(matches, " and "))
}

// compare lists how state differs from f, and the class count its head
// gives.
func compare(f Fingerprint, state map[string]*nn.Tensor) (diff []string, classes int) {
	classes = -1
	for key, shape := range f.Keys {
		t, ok := state[key]
		switch {
		case !ok:
			diff = append(diff, "no "+key)
		case slices.Contains(f.Head, key) && len(t.Shape) == len(shape) && slices.Equal(t.Shape[1:], shape[1:]):
			if classes >= 0 && t.Shape[0] != classes {
				diff = append(diff, fmt.Sprintf("%s has %d classes, another head key %d", key, t.Shape[0], classes))
			}
			classes = t.Shape[0]
		case !slices.Equal(t.Shape, shape):
			diff = append(diff, fmt.Sprintf("%s is %s, not %s", key, nn.ShapeString(t.Shape), nn.ShapeString(shape)))
		}
	}
	for key := range state {
		if _, ok := f.Keys[key]; !ok && !strings.HasSuffix(key, ".num_batches_tracked") {
			diff = append(diff, "an extra "+key)
		}
	}
	sort.Strings(diff)
	if classes < 0 {
		classes = f.Classes
	}
	return diff, classes
}
