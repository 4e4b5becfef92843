// Command convscope is the command line of convscope: model summaries,
// training, evaluation and attribution maps, the same engine the web
// visualizer (cmd/server) uses.
//
//	convscope summary   -model NAME [-input CxHxW] [-classes K] [-json]
//	convscope train     -model NAME -data NAME -epochs N -out FILE
//	convscope eval      -model NAME -weights FILE -data NAME
//	convscope infer     -model NAME [-weights FILE] (-image FILE | -tensor FILE.safetensors) [-json]
//	convscope attribute -method deconvnet|gradient|guided -model NAME [-weights FILE]
//	                    (-image FILE | -tensor IN.safetensors) (-layer NAME -channel K | -class K)
//	                    -out FILE.png|FILE.safetensors
//	convscope topk      -weights FILE -data NAME -layer NAME [-k 9] (-json | -out FILE.png)
//	convscope invariance -weights FILE -image FILE [-image FILE ...] [-kind translate|scale|rotate]
//	                    [-steps 13] [-layers NAME,NAME] [-label K | -labels K1,K2,...] (-json | -out DIR)
//	convscope correspondence -weights FILE -image FILE -box x0,y0,x1,y1 [-image FILE -box ...]
//	                    [-layers NAME,NAME] [-trials 10] [-seed 1] [-json]
//	convscope evolution -snapshots DIR -layer NAME [-channels 0,1,...] [-data NAME] [-sample 2000] (-json | -out FILE.png)
//	convscope filters   -weights FILE [-layer NAME] [-data NAME] (-json | -out FILE.png)
//	convscope occlusion -weights FILE (-image F | -tensor F.safetensors) -layer NAME [-channel K] [-label K] [-window W] [-stride S] [-batch B] (-json | -out FILE.png)
//	convscope samples   -data NAME -n 20 -out DIR
//	convscope bench     [-only PREFIX,...] [-json]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/convscope/convscope/version"
)

// commands maps each subcommand to its function and a one-line help.
var commands = map[string]struct {
	run  func(ctx context.Context, args []string, stdout io.Writer) error
	help string
}{
	"summary":   {summary, "layer table: output shapes, parameters, MACs, receptive fields"},
	"import":    {importONNX, "build an ONNX file's network and print its layer table (then -weights FILE.onnx anywhere)"},
	"train":     {trainCmd, "train a model on a dataset and write a safetensors checkpoint"},
	"eval":      {evalCmd, "test accuracy of a checkpoint"},
	"attribute": {attribute, "project a unit (deconvnet) or a class (gradient) back to the input"},
	"samples":   {samples, "write test-set images as PNG files (the web gallery)"},
	"infer":     {infer, "top-5 classes of a picture, or raw logits of a tensor"},
	"results":   {results, "the results table (docs/RESULTS.md) from a directory of trained checkpoints and metrics"},
	"figure":    {figure, "any figure convscope draws (the explorer's projection, each experiment's), captioned: convscope figure -h lists them"},
	"topk":      {topk, "Zeiler & Fergus' Figure 2: each channel's strongest images in a dataset, with their deconvnet projections"},
	"evolution": {evolution, "Zeiler & Fergus' Figure 4: each channel's strongest unit in snapshots kept during training (train -snapshots), projected to pixels"},
	"filters":   {filtersCmd, "Zeiler & Fergus' Figure 6: a convolution's filters, their high-frequency energy, faint and dead ones"},
	"bench":     {bench, "speed figures named as ../shared/tools/torch_anchor.py's (ratios: tools/bench/compare.sh)"},
	"version":   {versionCmd, "the version, commit and Go version of this build"},

	"invariance":     {invariance, "Zeiler & Fergus' Figure 5: feature distance and class probability as a picture is shifted, scaled or rotated"},
	"correspondence": {correspondence, "Zeiler & Fergus' Table 1: how consistently masking one part changes a layer's features across pictures"},
	"occlusion":      {occlusion, "Zeiler & Fergus' Figure 7: a grey square slides over a picture; a feature map, the true class's probability and the top class at each place"},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// A pass's memory is mostly its arena's buffers (nn.Arena), live for
	// the whole run and free of pointers; Go's default (GOGC=100) lets the
	// heap grow to twice that before collecting the little garbage between
	// steps. A quarter keeps a training run's peak near what it holds, for
	// a few more short collections. The GOGC variable, when set, wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	if len(os.Args) < 2 || commands[os.Args[1]].run == nil {
		usage()
		os.Exit(2)
	}
	if err := commands[os.Args[1]].run(ctx, os.Args[2:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "convscope "+os.Args[1]+":", err)
		os.Exit(1)
	}
}

func usage() {
	names := make([]string, 0, len(commands))
	for k := range commands {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: convscope COMMAND [flags]   (convscope COMMAND -h for flags)\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, commands[n].help)
	}
	fmt.Fprint(os.Stderr, b.String())
}

// versionCmd prints the build's identity (package version).
func versionCmd(_ context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print it as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(version.Get())
	}
	_, err := fmt.Fprintln(stdout, version.Get())
	return err
}
