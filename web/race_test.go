//go:build race

package web_test

// raceDetector is true when the tests run under -race, which makes the
// engine about ten times slower: timings then mean nothing.
const raceDetector = true
