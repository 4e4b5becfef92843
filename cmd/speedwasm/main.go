//go:build !(js && wasm)

// Command speedwasm is the engine as the browser runs it: built with
// GOOS=js GOARCH=wasm (go generate ./static/ writes static/wasm/speed.wasm),
// it gives the page convscopeTime(model, variant, [C, H, W], classes),
// the median time in milliseconds of one forward pass of one picture
// through that architecture, measured on the reader's own device (the
// evaluation lesson's "Measure in this browser"). Built for any other
// platform it only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "speedwasm runs in a browser: go generate ./static/ builds it with GOOS=js GOARCH=wasm")
	os.Exit(2)
}
