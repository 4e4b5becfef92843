//go:build race

package learn

// raceDetector is true when the tests run under -race, which makes the
// engine about ten times slower: the lessons that build ImageNet-size
// networks or run ResNet-56 skip then (they share no state between
// goroutines that the other tests do not exercise).
const raceDetector = true
