package experiments

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/web/catalog"
)

// Scans runs top-k scans one at a time for the whole server, in the order
// they were asked for: a scan asked for again while queued or running is
// the same job, and a finished one is read from the disk cache, so every
// visitor shares them.
type Scans struct {
	models Models
	sets   *Sets
	dir    string // cache directory
	// MaxQueued bounds the scans waiting their turn; past it a request is
	// refused as busy.
	MaxQueued int

	mu    sync.Mutex
	jobs  map[experiment.ScanKey]*scanJob
	queue []*scanJob
	wake  chan struct{}
	once  sync.Once
}

// ScanRequest names a scan: a catalog model, one of its layers and the
// split of the model's dataset.
type ScanRequest struct {
	Model, Layer, Split string
}

// scanJob is one scan under way or done.
type scanJob struct {
	req         ScanRequest
	key         experiment.ScanKey
	done, total atomic.Int64
	finished    chan struct{}
	result      *experiment.TopK
	err         error
}

// Status is what the page hears about a scan.
type Status struct {
	// State is "queued", "running", "done" or "failed".
	State string `json:"state"`
	// Position is the number of scans ahead of it while queued.
	Position int    `json:"position,omitempty"`
	Done     int64  `json:"done"`
	Total    int64  `json:"total"`
	Error    string `json:"error,omitempty"`
	// Cached says the scan was read from the disk cache.
	Cached bool `json:"cached,omitempty"`
}

// errBusy is a scan refused because the queue is full.
var errBusy = errors.New("the server is scanning for others: try again in a minute")

// NewScans makes the scan queue, caching results in dir.
func NewScans(models Models, sets *Sets, dir string) *Scans {
	return &Scans{models: models, sets: sets, dir: dir, MaxQueued: 8, jobs: map[experiment.ScanKey]*scanJob{}, wake: make(chan struct{}, 1)}
}

// Start asks for a scan, and returns its key and status at once: done
// (from the cache or an earlier job), or queued behind others.
func (s *Scans) Start(req ScanRequest) (experiment.ScanKey, Status, error) {
	key, err := s.key(req)
	if err != nil {
		return key, Status{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if j, ok := s.jobs[key]; ok {
		// Another replica sharing the cache folder may have finished it.
		if st := s.status(j); st.State == "done" || st.State == "failed" {
			return key, st, nil
		}
		if r, ok := experiment.LoadScan(s.dir, key); ok {
			return key, Status{State: "done", Done: int64(r.Images), Total: int64(r.Images), Cached: true}, nil
		}
		return key, s.status(j), nil
	}
	if r, ok := experiment.LoadScan(s.dir, key); ok {
		return key, Status{State: "done", Done: int64(r.Images), Total: int64(r.Images), Cached: true}, nil
	}
	if len(s.queue) >= s.MaxQueued {
		return key, Status{}, errBusy
	}
	j := &scanJob{req: req, key: key, finished: make(chan struct{})}
	j.total.Store(int64(key.Images))
	s.jobs[key] = j
	s.queue = append(s.queue, j)
	s.once.Do(func() { go s.work() })
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return key, s.status(j), nil
}

// Result is a finished scan of key, from a job or the cache.
func (s *Scans) Result(key experiment.ScanKey) (*experiment.TopK, bool) {
	s.mu.Lock()
	j, ok := s.jobs[key]
	s.mu.Unlock()
	if ok {
		select {
		case <-j.finished:
			return j.result, j.err == nil
		default:
			// unfinished here, perhaps finished by another replica
			// sharing the cache folder
		}
	}
	return experiment.LoadScan(s.dir, key)
}

// status is j's state; s.mu is held.
func (s *Scans) status(j *scanJob) Status {
	st := Status{Done: j.done.Load(), Total: j.total.Load()}
	select {
	case <-j.finished:
		st.State = "done"
		if j.err != nil {
			st.State, st.Error = "failed", j.err.Error()
		}
		return st
	default:
	}
	for i, q := range s.queue {
		if q == j {
			if i == 0 {
				st.State = "running"
			} else {
				st.State, st.Position = "queued", i
			}
			return st
		}
	}
	st.State = "running"
	return st
}

// key resolves a request to its scan's key: the model's weights, dataset
// and image count.
func (s *Scans) key(req ScanRequest) (experiment.ScanKey, error) {
	if req.Split != "test" && req.Split != "train" {
		return experiment.ScanKey{}, fmt.Errorf("split %q: want test or train", req.Split)
	}
	m, err := s.models.Open(req.Model)
	if err != nil {
		return experiment.ScanKey{}, err
	}
	defer s.models.Release(m)
	if _, _, ok := m.Summary.Row(req.Layer); !ok {
		return experiment.ScanKey{}, fmt.Errorf("no layer %q in %s", req.Layer, m.Name)
	}
	set, err := s.sets.Open(m.Entry, req.Split == "train")
	if err != nil {
		return experiment.ScanKey{}, err
	}
	return experiment.ScanKey{Weights: s.sets.Hash(m), Dataset: m.Dataset, Split: req.Split, Layer: req.Layer, K: 9, Images: set.Len()}, nil
}

// work runs the queue's scans one after another, for the server's life.
func (s *Scans) work() {
	for range s.wake {
		for {
			s.mu.Lock()
			if len(s.queue) == 0 {
				s.mu.Unlock()
				break
			}
			j := s.queue[0]
			s.mu.Unlock()
			j.result, j.err = s.run(j)
			s.mu.Lock()
			s.queue = s.queue[1:]
			close(j.finished)
			if j.err == nil {
				// The cache answers from now on; a failure stays to be read.
				delete(s.jobs, j.key)
			}
			s.mu.Unlock()
		}
	}
}

// run does one scan and caches it.
func (s *Scans) run(j *scanJob) (*experiment.TopK, error) {
	m, err := s.models.Open(j.req.Model)
	if err != nil {
		return nil, err
	}
	defer s.models.Release(m)
	set, err := s.sets.Open(m.Entry, j.req.Split == "train")
	if err != nil {
		return nil, err
	}
	row, _, _ := m.Summary.Row(j.req.Layer)
	r, err := experiment.ScanTopK(context.Background(), m.Net.Net, j.req.Layer, set, experiment.ScanOptions{
		K: j.key.K, ChannelsLast: row.Layout == "hwc",
		Progress: func(done, total int) { j.done.Store(int64(done)); j.total.Store(int64(total)) }})
	if err != nil {
		return nil, err
	}
	if err := experiment.SaveScan(s.dir, j.key, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Sets opens the datasets the experiments scan, once each, and keeps
// them; it also remembers each model's weights hash.
type Sets struct {
	// Dir is where datasets are looked for first (data.Find's flagDir).
	Dir string

	mu     sync.Mutex
	sets   map[string]*data.ImageSet
	hashes map[string]string // by model name
}

// Open returns the split of e's dataset, normalised for e.
func (s *Sets) Open(e catalog.Entry, train bool) (*data.ImageSet, error) {
	if e.Dataset == "" {
		return nil, fmt.Errorf("%s has no dataset to scan", e.Name)
	}
	name := fmt.Sprintf("%s/%v", e.Dataset, train)
	s.mu.Lock()
	defer s.mu.Unlock()
	set, ok := s.sets[name]
	if !ok {
		var err error
		if set, err = data.OpenImages(e.Dataset, s.Dir, train); err != nil {
			return nil, err
		}
		if s.sets == nil {
			s.sets = map[string]*data.ImageSet{}
		}
		s.sets[name] = set
	}
	if len(e.Input) != 3 || set.C != e.Input[0] || set.H != e.Input[1] || set.W != e.Input[2] {
		return nil, fmt.Errorf("%s's images are %dx%dx%d, %s takes %v", e.Dataset, set.C, set.H, set.W, e.Name, e.Input)
	}
	norm := *set // the pixels are shared; the normalisation is the model's
	norm.Mean, norm.Std = e.Pre.Mean, e.Pre.Std
	return &norm, nil
}

// Hash is m's weights hash (experiment.WeightsHash), computed once per
// model name (a catalog name always names the same weights).
func (s *Sets) Hash(m *catalog.Model) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.hashes[m.Name]; ok {
		return h
	}
	if s.hashes == nil {
		s.hashes = map[string]string{}
	}
	h := experiment.WeightsHash(m.Net.Net)
	s.hashes[m.Name] = h
	return h
}
