package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

func summary(_ context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	name := fs.String("model", "lenet5", "model name: "+fmt.Sprint(zoo.Names()))
	input := fs.String("input", "", "input shape CxHxW (default: the model's)")
	classes := fs.Int("classes", 0, "number of classes (default: the model's)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var shape []int
	if *input != "" {
		var err error
		if shape, err = zoo.ParseShape(*input); err != nil {
			return err
		}
	}
	m, err := zoo.Build(*name, shape, *classes, 0)
	if err != nil {
		return err
	}
	s, err := zoo.Summarize(m)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", " ")
		return enc.Encode(s)
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "layer\ttype\toutput\tparams\tMACs\tRF\tjump\t\n")
	for _, l := range s.Layers {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t\n", l.Name, l.Type, nn.ShapeString(l.Output), l.Params, l.MACs, l.RF, l.Jump)
	}
	w.Flush()
	fmt.Fprintf(stdout, "input %s, total params %d, total MACs %d\n", nn.ShapeString(s.Input), s.Params, s.MACs)
	return nil
}
