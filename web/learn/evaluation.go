package learn

// The evaluation lesson: every trained model of the catalog (the results
// table of weights/index.json), and, when the reader asks, each one's
// time for one picture measured on this machine.

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/web/catalog"
)

// Result is one trained model's row.
type Result struct {
	catalog.Entry
	Params, MACs int64
	// Millis is the median time of one forward pass of one picture, in
	// milliseconds, when measured (0 otherwise).
	Millis float64
}

// EvaluationView is the evaluation lesson's page.
type EvaluationView struct {
	Results  []Result
	Measured bool
	// Busy says another reader's measurement was running: the page asks
	// to try again rather than queue behind it.
	Busy bool
}

// measuring lets one measurement run at a time, server-wide: each runs
// every trained model several times on the server's cores.
var measuring sync.Mutex

// measureRuns is how many timed passes a model gets (after one to warm
// up); the page shows their median.
const measureRuns = 5

func (h *Handler) evaluationView(measure bool) (EvaluationView, error) {
	var v EvaluationView
	for _, e := range h.models.Entries() {
		if !e.Trained || !strings.HasPrefix(e.Source, "embedded ") {
			continue
		}
		v.Results = append(v.Results, Result{Entry: e})
	}
	if measure {
		if !measuring.TryLock() {
			v.Busy = true
			measure = false
		} else {
			defer measuring.Unlock()
			v.Measured = true
		}
	}
	for i := range v.Results {
		r := &v.Results[i]
		m, err := h.models.Open(r.Name)
		if err != nil {
			return v, err
		}
		r.Params, r.MACs = m.Summary.Params, m.Summary.MACs
		if measure {
			r.Millis = timeForward(m)
		}
		h.models.Release(m)
	}
	return v, nil
}

// timeForward is the median time of measureRuns eval passes of one zero
// picture through m, after one pass to warm up, in milliseconds.
func timeForward(m *catalog.Model) float64 {
	x := nn.New(append([]int{1}, m.Input...)...)
	if _, err := m.Net.Net.Forward(x, &nn.Context{}, nil); err != nil {
		return 0
	}
	times := make([]float64, measureRuns)
	for i := range times {
		start := time.Now()
		if _, err := m.Net.Net.Forward(x, &nn.Context{}, nil); err != nil {
			return 0
		}
		times[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	slices.Sort(times)
	return times[len(times)/2]
}
