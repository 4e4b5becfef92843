package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// results prints docs/RESULTS.md's table from the checkpoints and metrics
// that `convscope train` left in a directory: one row per checkpoint
// (NAME.safetensors with NAME.jsonl beside it).
func results(_ context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("results", flag.ContinueOnError)
	dir := fs.String("dir", "results", "directory of checkpoints and their .jsonl metrics")
	if err := fs.Parse(args); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(*dir, "*.safetensors"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	fmt.Fprintln(stdout, "| model | dataset | params | MACs | epochs | wall time | train img/s | test accuracy | command |")
	fmt.Fprintln(stdout, "|---|---|---:|---:|---:|---:|---:|---:|---|")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		meta, err := nn.SafetensorsMetadata(b)
		if err != nil || meta[zoo.MetaModel] == "" {
			continue // a resume state or a foreign file
		}
		m, _, err := zoo.DecodeCheckpoint(b, "")
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		s, err := zoo.Summarize(m)
		if err != nil {
			return err
		}
		epochs, ips, acc, wall, err := lastEpoch(strings.TrimSuffix(f, ".safetensors") + ".jsonl")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "| %s | %s | %s | %s | %d | %s | %.0f | %.4f | `%s` |\n", m.Name, meta[zoo.MetaDataset],
			zoo.Thousands(s.Params), zoo.Thousands(s.MACs), epochs, wall.Round(time.Second), ips, acc, meta["command"])
	}
	return nil
}

// lastEpoch reads a metrics log: the number of epochs, the mean training
// images/s, the last test accuracy and the wall time.
func lastEpoch(path string) (epochs int, ips, acc float64, wall time.Duration, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var sum float64
	for sc.Scan() {
		var rec struct {
			Epoch        int     `json:"epoch"`
			Final        bool    `json:"final"`
			TestAccuracy float64 `json:"test_accuracy"`
			ImagesPerS   float64 `json:"images_per_s"`
			WallS        float64 `json:"wall_s"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return 0, 0, 0, 0, fmt.Errorf("%s: %w", path, err)
		}
		if rec.Final || rec.Epoch == 0 {
			continue
		}
		epochs, acc, wall = rec.Epoch, rec.TestAccuracy, time.Duration(rec.WallS*float64(time.Second))
		sum += rec.ImagesPerS
	}
	if epochs == 0 {
		return 0, 0, 0, 0, fmt.Errorf("%s: no epochs", path)
	}
	return epochs, sum / float64(epochs), acc, wall, sc.Err()
}
