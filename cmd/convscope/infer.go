package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/convscope/convscope/nn"
)

func infer(_ context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("infer", flag.ContinueOnError)
	name := fs.String("model", "", "model name (default: the checkpoint's)")
	weights := fs.String("weights", "", "convscope checkpoint or PyTorch state_dict (.pth, .safetensors); empty: random init")
	seed := fs.Uint64("seed", 0, "seed of the random initialisation when -weights is empty")
	imagePath := fs.String("image", "", "input picture (PNG, JPEG, GIF)")
	tensorPath := fs.String("tensor", "", "input tensor: safetensors file with an NCHW tensor named \"input\"")
	asJSON := fs.Bool("json", false, "print JSON: the top 5 per sample, or with -tensor the raw logits")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, mc, err := loadModel(*name, *weights, *seed)
	if err != nil {
		return err
	}
	x, err := loadInput(m, mc, *imagePath, *tensorPath)
	if err != nil {
		return err
	}
	tr, err := m.Net.Forward(x, &nn.Context{Fuse: true, InPlace: true}, nil) // only the logits are read
	if err != nil {
		return err
	}
	logits := tr.Output()
	k := logits.Shape[1]
	if *asJSON && *tensorPath != "" {
		rows := make([][]float32, logits.Shape[0])
		for i := range rows {
			rows[i] = logits.Data[i*k : (i+1)*k]
		}
		return json.NewEncoder(stdout).Encode(map[string]any{"logits": rows})
	}
	type guess struct {
		Class       int     `json:"class"`
		Name        string  `json:"name"`
		Probability float32 `json:"probability"`
	}
	names := mc.Classes
	probs := nn.Softmax(logits)
	var all [][]guess
	for n := 0; n < logits.Shape[0]; n++ {
		row := probs.Data[n*k : (n+1)*k]
		idx := make([]int, k)
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
		var top []guess
		for _, c := range idx[:min(5, k)] {
			top = append(top, guess{c, names[c], row[c]})
		}
		all = append(all, top)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"model": m.Name, "top5": all})
	}
	for n, top := range all {
		if len(all) > 1 {
			fmt.Fprintf(stdout, "sample %d\n", n)
		}
		for _, g := range top {
			fmt.Fprintf(stdout, "%8.4f  %-4d %s\n", g.Probability, g.Class, g.Name)
		}
	}
	return nil
}
