package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

func summary(_ context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	name := fs.String("model", "lenet5", "model name: "+fmt.Sprint(zoo.Names()))
	variant := fs.String("variant", "", "change the architecture as `convscope train -variant` does (no-bn, no-shortcut, -LAYER, LAYER=KxK/S[/P], ...)")
	input := fs.String("input", "", "input shape CxHxW (default: the model's)")
	classes := fs.Int("classes", 0, "number of classes (default: the model's)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	all := fs.Bool("all", false, "one Markdown row per registered model (docs/ZOO.md's table)")
	depth := fs.Int("depth", 1, "how many levels of blocks to show, as torchinfo's depth (1: the top-level layers; JSON always has every level)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *all {
		return zooTable(stdout)
	}
	var shape []int
	if *input != "" {
		var err error
		if shape, err = zoo.ParseShape(*input); err != nil {
			return err
		}
	}
	m, err := zoo.BuildVariant(*name, *variant, shape, *classes, 0)
	if err != nil {
		return err
	}
	return printSummary(stdout, m, *asJSON, *depth)
}

// printSummary prints m's summary as a table (blocks opened to depth) or
// as JSON.
func printSummary(stdout io.Writer, m *zoo.Model, asJSON bool, depth int) error {
	s, err := zoo.Summarize(m)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", " ")
		return enc.Encode(s)
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "layer\ttype\toutput\tparams\tMACs\tRF\tjump\t\n")
	for _, l := range s.Layers {
		if l.Depth >= depth {
			continue
		}
		rf := fmt.Sprint(l.RF)
		if l.Whole {
			rf = "whole"
		}
		fmt.Fprintf(w, "%s%s\t%s\t%s\t%d\t%d\t%s\t%d\t\n", strings.Repeat("  ", l.Depth), l.Name, l.Type, nn.ShapeString(l.Output), l.Params, l.MACs, rf, l.Jump)
	}
	w.Flush()
	fmt.Fprintf(stdout, "input %s, total params %d, total MACs %d\n", nn.ShapeString(s.Input), s.Params, s.MACs)
	return nil
}

// zooTable prints every registered model at its default input as a
// Markdown table: parameters, MACs, and the receptive field and jump of the
// last layer whose units still see part of the input (the last conv stage).
func zooTable(w io.Writer) error {
	fmt.Fprintln(w, "| model | input | params | MACs | last conv stage | its RF | its jump |")
	fmt.Fprintln(w, "|---|---|---:|---:|---|---:|---:|")
	for _, name := range zoo.Names() {
		m, err := zoo.Build(name, nil, 0, 0)
		if err != nil {
			return err
		}
		s, err := zoo.Summarize(m)
		if err != nil {
			return err
		}
		var last zoo.LayerInfo
		for _, l := range s.Top() {
			if len(l.Output) != 3 || l.Type == "AdaptiveAvgPool2d" {
				break
			}
			last = l
		}
		fmt.Fprintf(w, "| %s | %dx%dx%d | %s | %s | %s (%s) | %d | %d |\n", name, s.Input[0], s.Input[1], s.Input[2],
			zoo.Thousands(s.Params), zoo.Thousands(s.MACs), last.Name, last.Type, last.RF, last.Jump)
	}
	return nil
}

// importONNX reads an ONNX file, builds its network (onnx.Model.Chain:
// layers, residual blocks, concatenations) and prints its summary, or why
// it cannot be built. The file then serves like a checkpoint.
func importONNX(_ context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	depth := fs.Int("depth", 2, "how many levels of blocks to show")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || !strings.EqualFold(filepath.Ext(fs.Arg(0)), ".onnx") {
		return fmt.Errorf("usage: convscope import [-json] [-depth N] MODEL.onnx")
	}
	file := fs.Arg(0)
	m, c, err := card.Load("", file, 0)
	if err != nil {
		return err
	}
	if err := printSummary(stdout, m, *asJSON, *depth); err != nil || *asJSON {
		return err
	}
	labels := "numbered"
	if c.Dataset != "" {
		labels = c.Dataset + "'s classes"
	}
	fmt.Fprintf(stdout, "%s: %d outputs (%s); use it as a checkpoint: convscope infer -weights %s, convscope attribute -weights %s, go run ./cmd/server -model %s\n",
		file, m.Classes, labels, file, file, file)
	return nil
}
