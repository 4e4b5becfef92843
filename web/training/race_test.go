//go:build race

package training

// raceDetector is true when the tests run under -race, which makes the
// engine about ten times slower: the longer runs skip then, the pause and
// resume one stays.
const raceDetector = true
