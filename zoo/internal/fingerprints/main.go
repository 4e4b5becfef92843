// Command fingerprints writes zoo/fingerprints.json: every zoo
// architecture's state_dict shapes at its default input and classes
// (zoo.FingerprintOf), which zoo.Identify matches checkpoints against.
//
//	go generate ./zoo
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/convscope/convscope/zoo"
)

func main() {
	out := flag.String("out", "fingerprints.json", "file to write")
	flag.Parse()
	b, err := zoo.GenerateFingerprints()
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fingerprints:", err)
		os.Exit(1)
	}
}
