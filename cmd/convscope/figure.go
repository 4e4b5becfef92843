package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// figures maps each figure convscope draws to the command that draws it
// and the flags that make it a figure (a PNG or SVG with a caption naming
// model, weights, input, layer, unit and method).
var figures = map[string]struct {
	run   func(ctx context.Context, args []string, stdout io.Writer) error
	flags []string
	about string
}{
	"attribution":    {attribute, []string{"-caption"}, "the explorer's projection: input, attribution, caption (attribute's flags)"},
	"topk":           {topk, nil, "Figure 2: each channel's strongest images and their deconvnet projections (topk's flags)"},
	"filters":        {filtersCmd, nil, "Figure 6: a convolution's filters (filters' flags)"},
	"occlusion":      {occlusion, nil, "Figure 7: the five occlusion panels (occlusion's flags)"},
	"invariance":     {invariance, nil, "Figure 5: the invariance charts, SVG (invariance's flags; -out DIR)"},
	"correspondence": {correspondence, nil, "Table 1: the pictures, their parts and the Δ table (correspondence's flags)"},
}

// figure draws any of convscope's figures from the command line: the
// explorer's projection and each experiment's, by the command that draws
// it, with -out required.
func figure(ctx context.Context, args []string, stdout io.Writer) error {
	names := make([]string, 0, len(figures))
	for n := range figures {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" {
		var b strings.Builder
		b.WriteString("usage: convscope figure KIND [the command's flags] -out FILE\n\nkinds:\n")
		for _, n := range names {
			fmt.Fprintf(&b, "  %-15s %s\n", n, figures[n].about)
		}
		fmt.Fprint(stdout, b.String())
		return nil
	}
	f, ok := figures[args[0]]
	if !ok {
		return fmt.Errorf("no figure %q (kinds: %s)", args[0], strings.Join(names, ", "))
	}
	rest := args[1:]
	if !slices.ContainsFunc(rest, func(a string) bool {
		return a == "-out" || a == "--out" || strings.HasPrefix(a, "-out=") || strings.HasPrefix(a, "--out=")
	}) {
		return fmt.Errorf("figure %s: -out is required (where to write the figure)", args[0])
	}
	return f.run(ctx, append(slices.Clone(f.flags), rest...), stdout)
}
