package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/convscope/convscope/train"
)

// progress draws training events: a redrawn bar on a terminal, one line per
// epoch (and a line every few seconds) otherwise.
type progress struct {
	w        io.Writer
	terminal bool
	last     time.Time
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	if !ok {
		return &progress{w: w}
	}
	fi, err := f.Stat()
	return &progress{w: f, terminal: err == nil && fi.Mode()&os.ModeCharDevice != 0}
}

func (p *progress) event(e train.Event) {
	switch e.Phase {
	case "train":
		line := fmt.Sprintf("epoch %d/%d %s %d/%d  loss %.4f  acc %.4f  %.0f img/s  ETA %s",
			e.Epoch, e.Epochs, bar(e.Step, e.Steps, 24), e.Step, e.Steps, e.Loss, e.Accuracy, e.ImagesPerSec, e.ETA.Round(time.Second))
		if p.terminal {
			fmt.Fprintf(p.w, "\r%s\033[K", line)
		} else if time.Since(p.last) > 10*time.Second {
			fmt.Fprintln(p.w, line)
			p.last = time.Now()
		}
	case "epoch":
		if p.terminal {
			fmt.Fprint(p.w, "\r\033[K")
		}
		fmt.Fprintf(p.w, "epoch %d/%d  loss %.4f  acc %.4f  test loss %.4f  test acc %.4f  %.0f img/s  %s\n",
			e.Epoch, e.Epochs, e.Loss, e.Accuracy, e.TestLoss, e.TestAccuracy, e.ImagesPerSec, e.Elapsed.Round(time.Second))
	}
}

func bar(done, total, width int) string {
	n := done * width / max(total, 1)
	return "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "]"
}

// counter returns a progress function for long scans: a redrawn bar on a
// terminal, a line every ten seconds otherwise, and the bar cleared at the end.
func (p *progress) counter(what string) func(done, total int) {
	return func(done, total int) {
		line := fmt.Sprintf("%s %s %d/%d", what, bar(done, total, 24), done, total)
		switch {
		case p.terminal && done == total:
			fmt.Fprint(p.w, "\r\033[K")
		case p.terminal:
			fmt.Fprintf(p.w, "\r%s\033[K", line)
		case time.Since(p.last) > 10*time.Second:
			fmt.Fprintln(p.w, line)
			p.last = time.Now()
		}
	}
}
