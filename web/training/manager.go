package training

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/train"
	"github.com/convscope/convscope/train/recipe"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/web/metrics"
	"github.com/convscope/convscope/zoo"
)

// Why a running Fit is asked to end.
var (
	errPause    = errors.New("paused by its visitor")
	errStop     = errors.New("stopped by its visitor")
	errShutdown = problemf("training.err_shutdown")
)

// Models are the explorer's models (catalog.Catalog): a finished run's
// weights join them, and a fine-tune starts from one of them.
type Models interface {
	Entries() []catalog.Entry
	Add(f catalog.File) (catalog.Entry, error)
	Open(name string) (*catalog.Model, error)
	Release(m *catalog.Model)
	AddSnapshots(of string, files []string, epochs []int) error
}

// Manager runs the server's training runs one at a time, in the order
// they were asked for; the others wait in line and see their place. Each
// run lives in a folder of its own under the manager's: its recipe, its
// status, the trainer's state (checkpointed every epoch, every 30 seconds
// and when it is paused), its epochs' figures and, once finished or
// stopped, its weights, which join the explorer's menu. A server started
// again on the same folder resumes the run that was under way.
type Manager struct {
	dir, dataDir string
	models       Models
	log          *slog.Logger
	// MaxQueued bounds the runs waiting their turn.
	MaxQueued int
	// PictureEvery is the least time between two pictures of the filters
	// and of the probe's maps.
	PictureEvery time.Duration

	drawing sync.Mutex // one evolution figure at a time
	mu      sync.Mutex
	metrics *metrics.Metrics // counts the steps, when set (Count)
	runs    map[string]*Run
	queue   []*Run // waiting, and the one under way first
	active  *Run   // the run the worker has taken, from its preparation on
	wake    chan struct{}
	closed  bool
	working sync.WaitGroup
}

// NewManager opens the runs kept in dir (created if need be): finished
// and stopped ones join models, and a run that was queued or under way
// when the server stopped is queued again to resume.
func NewManager(dir, dataDir string, models Models, log *slog.Logger) (*Manager, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	m := &Manager{dir: dir, dataDir: dataDir, models: models, log: log, MaxQueued: 4, PictureEvery: 2 * time.Second,
		runs: map[string]*Run{}, wake: make(chan struct{}, 1)}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		r, st, err := m.load(e.Name())
		if err != nil {
			log.Warn("training run left out", "run", e.Name(), "err", err)
			continue
		}
		m.runs[r.ID] = r
		switch st.State {
		case Queued, Running:
			r.state = Queued
			m.queue = append(m.queue, r)
		case Finished, Stopped:
			if st.Result != "" {
				if _, err := models.Add(catalog.File{Path: filepath.Join(r.dir, st.Result+".safetensors"), Model: r.Recipe.Model}); err != nil {
					log.Warn("training run's weights left out", "run", r.ID, "err", err)
				} else {
					addSnapshots(models, r, st.Result, log)
				}
			}
		}
	}
	sort.Slice(m.queue, func(i, j int) bool { return m.queue[i].ID < m.queue[j].ID })
	m.working.Add(1)
	go m.work()
	if len(m.queue) > 0 {
		m.wake <- struct{}{}
	}
	return m, nil
}

// load reads run id's recipe and status.
func (m *Manager) load(id string) (*Run, status, error) {
	dir := filepath.Join(m.dir, id)
	var r Run
	var st status
	b, err := os.ReadFile(filepath.Join(dir, "recipe.json"))
	if err != nil {
		return nil, st, err
	}
	if err := json.Unmarshal(b, &r.Recipe); err != nil {
		return nil, st, fmt.Errorf("%s: %w", id, err)
	}
	if b, err = os.ReadFile(filepath.Join(dir, "status.json")); err == nil {
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, st, fmt.Errorf("%s: %w", id, err)
		}
	}
	r.ID, r.dir, r.state, r.message, r.result = id, dir, st.State, st.Message, st.Result
	if b, err = os.ReadFile(filepath.Join(dir, "epochs.json")); err == nil {
		_ = json.Unmarshal(b, &r.epochs)
	}
	return &r, st, nil
}

// Count makes the runs that start from now on count their steps in met.
func (m *Manager) Count(met *metrics.Metrics) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.metrics = met
}

// Queued is the number of runs waiting for the one under way.
func (m *Manager) Queued() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.queue {
		if r != m.active {
			n++
		}
	}
	return n
}

// Runs lists the runs, newest first.
func (m *Manager) Runs() []*Run {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Run, 0, len(m.runs))
	for _, r := range m.runs {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out
}

// Run is the run called id.
func (m *Manager) Run(id string) (*Run, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.runs[id]
	return r, ok
}

// Start queues a new run of recipe.
func (m *Manager) Start(rec recipe.Recipe) (*Run, error) {
	if err := rec.Check(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errShutdown
	}
	if len(m.queue) > m.MaxQueued {
		return nil, problemf("training.err_queue_full", len(m.queue)-1)
	}
	id := time.Now().UTC().Format("20060102-150405")
	for n := 2; m.runs[id] != nil; n++ {
		id = fmt.Sprintf("%s-%d", time.Now().UTC().Format("20060102-150405"), n)
	}
	r := &Run{ID: id, Recipe: rec, dir: filepath.Join(m.dir, id), state: Queued}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(rec, "", "  ")
	if err := writeFile(filepath.Join(r.dir, "recipe.json"), b); err != nil {
		return nil, err
	}
	m.runs[id] = r
	m.enqueue(r)
	return r, nil
}

// enqueue puts r in line and wakes the worker; m.mu is held.
func (m *Manager) enqueue(r *Run) {
	m.queue = append(m.queue, r)
	r.set(Queued, "", "")
	m.positions()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// positions tells each waiting run its place; m.mu is held.
func (m *Manager) positions() {
	for i, r := range m.queue {
		r.mu.Lock()
		r.position = i
		f := r.stateFrame()
		r.mu.Unlock()
		if i > 0 {
			r.send(f)
		}
	}
}

// Pause asks a running run to stop at the next step, keeping its state to
// resume; a queued one leaves the line.
func (m *Manager) Pause(id string) error {
	return m.end(id, errPause)
}

// Stop ends a run for good; a running one keeps its weights so far, which
// join the explorer's menu.
func (m *Manager) Stop(id string) error {
	return m.end(id, errStop)
}

func (m *Manager) end(id string, cause error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.runs[id]
	if !ok {
		return problemf("training.err_no_run", id)
	}
	if r == m.active {
		r.ask(cause)
		return nil
	}
	st, _, _ := r.Status()
	switch {
	case st == Queued:
		m.queue = slices.DeleteFunc(m.queue, func(q *Run) bool { return q == r })
		m.positions()
		if cause == errStop {
			r.set(Stopped, msgStoppedBeforeStart, "")
		} else {
			r.set(Paused, "", "")
		}
		return nil
	case st == Paused && cause == errStop:
		r.set(Stopped, msgStoppedWhilePaused, "")
		return nil
	}
	return problemf("training.err_run_is", id, st)
}

// Resume puts a paused run back in line; it continues where it stopped.
func (m *Manager) Resume(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.runs[id]
	if !ok {
		return problemf("training.err_no_run", id)
	}
	if st, _, _ := r.Status(); st != Paused {
		return problemf("training.err_not_paused", id, st)
	}
	m.enqueue(r)
	return nil
}

// Close stops the running run so that it resumes when a server starts
// again on the same folder, and waits for its state to be saved.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	if m.active != nil {
		m.active.ask(errShutdown)
	}
	close(m.wake)
	m.mu.Unlock()
	m.working.Wait()
}

// work runs the queue's runs one after another.
func (m *Manager) work() {
	defer m.working.Done()
	for range m.wake {
		for {
			m.mu.Lock()
			if len(m.queue) == 0 || m.closed {
				m.mu.Unlock()
				break
			}
			r := m.queue[0]
			m.active = r
			m.mu.Unlock()
			m.run(r)
			m.mu.Lock()
			m.active = nil
			// Only this turn leaves the line: a run paused and resumed at
			// once is in it again, behind.
			if len(m.queue) > 0 && m.queue[0] == r {
				m.queue = m.queue[1:]
			}
			m.positions()
			m.mu.Unlock()
		}
	}
}

// run trains r until it finishes, fails or is asked to end.
func (m *Manager) run(r *Run) {
	p, err := r.Recipe.Prepare(m.dataDir)
	if err == nil && r.Recipe.From != "" {
		err = m.startFrom(p, r.Recipe.From)
	}
	if err != nil {
		r.set(Failed, err.Error(), "")
		return
	}
	ctx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	r.mu.Lock()
	r.stop = stop
	if r.pending != nil { // asked to end while it was being prepared
		stop(r.pending)
		r.pending = nil
	}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.stop = nil
		r.mu.Unlock()
	}()
	state := filepath.Join(r.dir, "state")
	_, statErr := os.Stat(state)
	cfg := r.Recipe.Config()
	cfg.Checkpoint, cfg.CheckpointEvery, cfg.Resume = state, 30*time.Second, statErr == nil
	// the chosen epochs' weights (every epoch's by default), for Figure 4
	// (convscope evolution)
	cfg.SnapshotDir, cfg.SnapshotEpochs, cfg.SnapshotMeta = r.Snapshots(), r.Recipe.Snapshots, p.Meta
	pics := m.pictures(p)
	var last time.Time
	stepped := -1 // the steps counted, over the whole run
	m.mu.Lock()
	met := m.metrics
	m.mu.Unlock()
	cfg.OnEvent = func(e train.Event) {
		if e.Phase != "train" {
			return
		}
		at := (e.Epoch-1)*e.Steps + e.Step
		if stepped < 0 || at < stepped {
			// The first event since the start (or a resume) comes at most
			// ten steps in (train.Fit tells every tenth step).
			stepped = at - min(at, 10)
		}
		met.TrainingSteps(at-stepped, e.ImagesPerSec)
		stepped = at
		r.send(Frame{Type: "step", Epoch: e.Epoch, Epochs: e.Epochs, Step: e.Step, Steps: e.Steps, Loss: e.Loss, Accuracy: e.Accuracy,
			LR: e.LR, ImagesPerSec: e.ImagesPerSec, ETASeconds: e.ETA.Seconds()})
		if time.Since(last) >= m.PictureEvery {
			last = time.Now()
			pics(r)
		}
	}
	var lastEpoch train.EpochResult
	cfg.OnEpoch = func(e train.EpochResult, ev train.Evaluation) error {
		lastEpoch = e
		r.send(Frame{Type: "epoch", Epoch: e.Epoch, Epochs: cfg.Epochs, Loss: e.Loss, Accuracy: e.Accuracy, TestLoss: e.TestLoss,
			TestAccuracy: e.TestAccuracy, PerClass: ev.PerClass(), Confusion: ev.Confusion, Classes: p.Classes, LR: e.LR, ImagesPerSec: e.ImagesPerSec})
		pics(r)
		r.mu.Lock()
		b, _ := json.Marshal(r.epochs)
		r.mu.Unlock()
		return writeFile(filepath.Join(r.dir, "epochs.json"), b)
	}
	r.set(Running, "", "")
	pics(r)
	res, err := train.Fit(ctx, p.Model, p.Train, p.Test, cfg)
	met.TrainingStopped() // before the run's state says it ended
	cause := context.Cause(ctx)
	switch {
	case err == nil:
		m.keep(r, p, res[len(res)-1], Finished, "")
	case errors.Is(cause, errPause):
		r.set(Paused, "", "")
	case errors.Is(cause, errStop):
		m.keep(r, p, lastEpoch, Stopped, fmt.Sprintf(msgStoppedAfter, lastEpoch.Epoch, cfg.Epochs))
	case errors.Is(cause, errShutdown):
		r.set(Running, msgServerStopped, "") // status.json says running
	default:
		r.set(Failed, err.Error(), "")
	}
}

// startFrom copies the weights of the explorer's model called from into
// the run's model: same architecture, input and classes.
func (m *Manager) startFrom(p *recipe.Prepared, from string) error {
	src, err := m.models.Open(from)
	if err != nil {
		return err
	}
	defer m.models.Release(src)
	if src.Net.Name != p.Model.Name || !slices.Equal(src.Net.Input, p.Model.Input) || src.Net.Classes != p.Model.Classes {
		return fmt.Errorf("%s is %s on %v with %d classes; the run trains %s on %v with %d", from, src.Net.Name, src.Net.Input,
			src.Net.Classes, p.Model.Name, p.Model.Input, p.Model.Classes)
	}
	return p.Model.Net.Load(src.Net.Net.State())
}

// keep writes the run's weights, lists them in the explorer's menu and
// ends the run in state s.
func (m *Manager) keep(r *Run, p *recipe.Prepared, last train.EpochResult, s State, message string) {
	name := fmt.Sprintf("trained-%s-%s", r.Recipe.Model, r.ID)
	path := filepath.Join(r.dir, name+".safetensors")
	meta := train.EpochMeta(p.Meta, last)
	meta["command"] = r.Recipe.Command(name + ".safetensors")
	if err := zoo.SaveCheckpoint(path, p.Model, meta); err != nil {
		r.set(Failed, err.Error(), "")
		return
	}
	if _, err := m.models.Add(catalog.File{Path: path, Model: r.Recipe.Model}); err != nil {
		m.log.Warn("training run's weights left out of the menu", "run", r.ID, "err", err)
	} else {
		addSnapshots(m.models, r, name, m.log)
	}
	r.set(s, message, name)
}

// addSnapshots lists a run's kept epochs as snapshots of its weights
// (called name in the menu), for the explorer's epoch slider.
func addSnapshots(models Models, r *Run, name string, log *slog.Logger) {
	files, epochs, err := experiment.SnapshotFiles(r.Snapshots())
	if err == nil {
		err = models.AddSnapshots(name, files, epochs)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Warn("training run's snapshots left out of the explorer", "run", r.ID, "err", err)
	}
}

// pictures returns what draws the run's current filters (its first
// convolution's) and a fixed probe picture's maps (the first test image,
// at the second top-level convolution, or the first), as frames.
func (m *Manager) pictures(p *recipe.Prepared) func(r *Run) {
	net := p.Model.Net
	convs := experiment.Convolutions(net)
	var top []string
	for _, l := range net.Layers {
		if _, ok := l.(*nn.Conv2d); ok {
			top = append(top, l.Name())
		}
	}
	probeLayer := ""
	switch {
	case len(top) > 1:
		probeLayer = top[1]
	case len(convs) > 0:
		probeLayer = convs[min(1, len(convs)-1)]
	}
	probe := nn.New(append([]int{1}, p.Test.Shape()...)...)
	if p.Test.Len() > 0 {
		p.Test.Fill(0, probe.Data)
	}
	return func(r *Run) {
		if len(convs) > 0 {
			if lf, err := experiment.Filters(context.Background(), net, convs[0], nil); err == nil {
				if img, err := experiment.FiltersFigure(i18n.In(i18n.English), "", lf); err == nil {
					r.send(Frame{Type: "filters", Picture: dataURL(img), Layer: convs[0]})
				}
			}
		}
		if probeLayer != "" {
			if out, err := experiment.Reach(net, probe, probeLayer, &nn.Context{}); err == nil {
				if maps, err := viz.Quantize(out); err == nil {
					r.send(Frame{Type: "probe", Picture: dataURL(maps.Grid(&viz.Viridis, max(1, 48/max(1, maps.H)), 8)), Layer: probeLayer})
				}
			}
		}
	}
}

// dataURL is img as a PNG data URL ("" if it cannot be encoded).
func dataURL(img image.Image) string {
	b, err := viz.PNG(img)
	if err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b)
}

// evolutionSample is how many training images Figure 4 looks through.
const evolutionSample = 2000

// Evolution draws Figure 4 for run r at layer: for its first eight
// channels, each snapshot's strongest unit over the first 2,000 training
// images, projected by the deconvnet. One figure is drawn at a time.
func (m *Manager) Evolution(ctx context.Context, r *Run, layer string) ([]byte, error) {
	m.drawing.Lock()
	defer m.drawing.Unlock()
	snaps, first, fc, err := experiment.ReadSnapshots(r.Snapshots())
	if err != nil {
		return nil, err
	}
	sum, err := zoo.Summarize(first)
	if err != nil {
		return nil, err
	}
	row, _, ok := sum.Row(layer)
	if !ok || len(row.Maps) != 3 {
		return nil, fmt.Errorf("no layer %q with feature maps in %s", layer, first.Name)
	}
	if strings.HasPrefix(r.Recipe.Data, "folder:") {
		return nil, fmt.Errorf("feature evolution reads a named dataset's training images; this run trained on %s", r.Recipe.Data)
	}
	set, err := data.OpenImages(r.Recipe.Data, m.dataDir, true)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(set.Shape(), first.Input) {
		return nil, fmt.Errorf("%s's images are %v, %s takes %v", r.Recipe.Data, set.Shape(), first.Name, first.Input)
	}
	set.Mean, set.Std = fc.Pre.Mean, fc.Pre.Std
	if set.Len() > evolutionSample {
		idx := make([]int, evolutionSample)
		for i := range idx {
			idx[i] = i
		}
		set = set.Subset(idx)
	}
	channels := make([]int, min(8, row.Maps[0]))
	for i := range channels {
		channels[i] = i
	}
	patches, err := experiment.Evolution(ctx, snaps, row, set, channels, experiment.SetPixels(set))
	if err != nil {
		return nil, err
	}
	epochs := make([]int, len(snaps))
	for i, sn := range snaps {
		epochs[i] = sn.Epoch
	}
	caption := i18n.T(ctx, "training.evolution_caption", r.ID, first.Name, r.Recipe.Data, layer, set.Len())
	img, err := experiment.EvolutionFigure(i18n.In(i18n.Of(ctx)), caption, epochs, channels, patches)
	if err != nil {
		return nil, err
	}
	return viz.PNG(img)
}

// EvolutionLayers are the convolutions of a run's snapshots ("" when it
// has none yet).
func (r *Run) EvolutionLayers() []string {
	files, _, err := experiment.SnapshotFiles(r.Snapshots())
	if err != nil || len(files) == 0 {
		return nil
	}
	m, _, err := card.Load("", files[0], 0)
	if err != nil {
		return nil
	}
	return experiment.Convolutions(m.Net)
}
