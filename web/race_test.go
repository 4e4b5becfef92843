//go:build race

package web_test

// raceDetector is true when the tests run under -race, which makes the
// engine about ten times slower: the browser tests skip then.
const raceDetector = true
