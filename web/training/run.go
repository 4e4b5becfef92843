package training

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"

	"github.com/convscope/convscope/train/recipe"
)

// State is where a run stands.
type State string

// The states of a run.
const (
	Queued   State = "queued"
	Running  State = "running"
	Paused   State = "paused"
	Stopped  State = "stopped"  // ended by its visitor; its weights so far are kept
	Finished State = "finished" // all its epochs done
	Failed   State = "failed"
)

// Frame is one message of a run's stream to the page: a step's running
// figures, an epoch's test figures, a new picture of the filters or of the
// probe's maps, or the run's state.
type Frame struct {
	Type string `json:"type"` // "step", "epoch", "filters", "probe", "state"
	// step and epoch
	Epoch        int     `json:"epoch,omitempty"`
	Epochs       int     `json:"epochs,omitempty"`
	Step         int     `json:"step,omitempty"`
	Steps        int     `json:"steps,omitempty"`
	Loss         float64 `json:"loss,omitempty"`
	Accuracy     float64 `json:"accuracy,omitempty"`
	LR           float64 `json:"lr,omitempty"`
	ImagesPerSec float64 `json:"imagesPerSec,omitempty"`
	ETASeconds   float64 `json:"etaSeconds,omitempty"`
	// epoch
	TestLoss     float64   `json:"testLoss,omitempty"`
	TestAccuracy float64   `json:"testAccuracy,omitempty"`
	PerClass     []float64 `json:"perClass,omitempty"`
	Confusion    [][]int   `json:"confusion,omitempty"`
	Classes      []string  `json:"classes,omitempty"`
	// filters and probe: a PNG data URL and the layer it shows
	Picture string `json:"picture,omitempty"`
	Layer   string `json:"layer,omitempty"`
	// state
	State    State  `json:"state,omitempty"`
	Position int    `json:"position,omitempty"`
	Message  string `json:"message,omitempty"`
	// Result is the explorer's name for the run's weights, once kept.
	Result string `json:"result,omitempty"`
}

// Run is one training run: its recipe, where it stands and what it has
// streamed so far (the history a page that joins late draws first).
type Run struct {
	ID     string
	Recipe recipe.Recipe
	dir    string

	mu       sync.Mutex
	state    State
	message  string
	result   string
	steps    []Frame // every step frame (one per ten steps)
	epochs   []Frame
	filters  Frame
	probe    Frame
	subs     map[chan Frame]struct{}
	position int
	// stop asks the running Fit to end, with why (errPause, errStop,
	// errShutdown); pending is a cause asked for before Fit started.
	stop    func(cause error)
	pending error
}

// ask ends the run under way with cause: at once, or as soon as its
// training starts.
func (r *Run) ask(cause error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop != nil {
		r.stop(cause)
		return
	}
	r.pending = cause
}

// status is what a run's status.json holds, to find the run again after a
// restart.
type status struct {
	State   State  `json:"state"`
	Message string `json:"message,omitempty"`
	Result  string `json:"result,omitempty"`
}

// Snapshots is the folder of the run's weights after each epoch.
func (r *Run) Snapshots() string { return filepath.Join(r.dir, "snapshots") }

// Status is the run's state, message and result name.
func (r *Run) Status() (State, string, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state, r.message, r.result
}

// set changes the run's state (written to status.json) and tells its
// watchers.
func (r *Run) set(s State, message, result string) {
	r.mu.Lock()
	r.state, r.message = s, message
	if result != "" {
		r.result = result
	}
	f := r.stateFrame()
	b, _ := json.Marshal(status{r.state, r.message, r.result})
	r.mu.Unlock()
	writeFile(filepath.Join(r.dir, "status.json"), b)
	r.send(f)
}

// stateFrame is the run's state as a frame; r.mu is held.
func (r *Run) stateFrame() Frame {
	return Frame{Type: "state", State: r.state, Position: r.position, Message: r.message, Result: r.result}
}

// send keeps f in the history and passes it to every watcher; a watcher
// too slow to take it misses it (the page's picture is redrawn by the
// next one).
func (r *Run) send(f Frame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch f.Type {
	case "step":
		r.steps = append(r.steps, f)
	case "epoch":
		r.epochs = append(r.epochs, f)
	case "filters":
		r.filters = f
	case "probe":
		r.probe = f
	}
	for ch := range r.subs {
		select {
		case ch <- f:
		default:
		}
	}
}

// Watch returns the run's history and a channel of what comes next, until
// cancel is called.
func (r *Run) Watch() (history []Frame, next <-chan Frame, cancel func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	history = append(history, r.stateFrame())
	history = append(history, r.epochs...)
	history = append(history, r.steps...)
	for _, f := range []Frame{r.filters, r.probe} {
		if f.Type != "" {
			history = append(history, f)
		}
	}
	ch := make(chan Frame, 64)
	if r.subs == nil {
		r.subs = map[chan Frame]struct{}{}
	}
	r.subs[ch] = struct{}{}
	return history, ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.subs, ch)
	}
}

// writeFile writes b to path through a temporary file renamed into place.
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
