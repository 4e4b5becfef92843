package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/convscope/convscope/train"
)

// metricsLog writes one JSON line and one CSV row per epoch (PREFIX.jsonl,
// PREFIX.csv) and, at the end, the confusion matrix as a last JSON line.
// A resumed run appends to the files of the run it continues.
type metricsLog struct {
	jsonl, csvFile *os.File
	csv            *csv.Writer
	classes        []string
}

func newMetricsLog(prefix string, classes []string, resume bool) (*metricsLog, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if resume {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	j, err := os.OpenFile(prefix+".jsonl", flags, 0o644)
	if err != nil {
		return nil, err
	}
	c, err := os.OpenFile(prefix+".csv", flags, 0o644)
	if err != nil {
		j.Close()
		return nil, err
	}
	l := &metricsLog{jsonl: j, csvFile: c, csv: csv.NewWriter(c), classes: classes}
	if fi, err := c.Stat(); err == nil && fi.Size() == 0 {
		header := []string{"epoch", "loss", "accuracy", "test_loss", "test_accuracy", "lr", "images_per_s", "wall_s"}
		for _, name := range classes {
			header = append(header, "test_acc_"+name)
		}
		l.csv.Write(header)
		l.csv.Flush()
	}
	return l, nil
}

// Epoch records one epoch.
func (l *metricsLog) Epoch(r train.EpochResult) error {
	rec := map[string]any{"epoch": r.Epoch, "loss": r.Loss, "accuracy": r.Accuracy, "test_loss": r.TestLoss,
		"test_accuracy": r.TestAccuracy, "lr": r.LR, "images_per_s": r.ImagesPerSec, "wall_s": r.Elapsed.Seconds()}
	perClass := map[string]float64{}
	row := []string{strconv.Itoa(r.Epoch), f(r.Loss), f(r.Accuracy), f(r.TestLoss), f(r.TestAccuracy), f(r.LR), f(r.ImagesPerSec), f(r.Elapsed.Seconds())}
	for c, acc := range r.PerClass {
		perClass[l.name(c)] = acc
		row = append(row, f(acc))
	}
	rec["test_per_class"] = perClass
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := l.jsonl.Write(append(b, '\n')); err != nil {
		return err
	}
	l.csv.Write(row)
	l.csv.Flush()
	return l.csv.Error()
}

// Final records the last evaluation's confusion matrix.
func (l *metricsLog) Final(ev train.Evaluation) error {
	b, err := json.Marshal(map[string]any{"final": true, "test_accuracy": ev.Accuracy, "test_loss": ev.Loss,
		"classes": l.classes, "confusion": ev.Confusion})
	if err != nil {
		return err
	}
	_, err = l.jsonl.Write(append(b, '\n'))
	return err
}

// Close closes both files.
func (l *metricsLog) Close() error {
	l.csv.Flush()
	return errorsJoin(l.jsonl.Close(), l.csvFile.Close())
}

func (l *metricsLog) name(c int) string {
	if c < len(l.classes) {
		return l.classes[c]
	}
	return strconv.Itoa(c)
}

func f(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// printConfusion prints per-class accuracy and the confusion matrix (rows:
// true class, columns: predicted).
func printConfusion(w io.Writer, ev train.Evaluation, classes []string) {
	name := func(c int) string {
		if c < len(classes) {
			return classes[c]
		}
		return strconv.Itoa(c)
	}
	fmt.Fprintln(w, "per-class accuracy and confusion matrix (rows: true class, columns: predicted):")
	for c, row := range ev.Confusion {
		cells := make([]string, len(row))
		for j, v := range row {
			cells[j] = fmt.Sprintf("%5d", v)
		}
		fmt.Fprintf(w, "  %-12.12s %.4f %s\n", name(c), ev.PerClass()[c], strings.Join(cells, ""))
	}
}
