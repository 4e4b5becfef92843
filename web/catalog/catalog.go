// Package catalog is the web server's list of models a user can look at:
// what each one is (architecture, input, dataset, class names,
// normalisation) and, once opened, the shared read-only network and its
// summary. It knows nothing of where weights come from: cmd/server hands it
// an Opener (the embedded trained checkpoints of package weights, or
// zoo.Build's random initialisation in tests).
package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/zoo"
)

// Entry describes one model the server offers: its card (package card,
// the description the CLI uses too).
type Entry = card.Card

// NoDataset is what pages print for an entry whose Dataset is "".
const NoDataset = card.NoDataset

// Model is an opened entry: the network (weights shared, read-only) and its
// summary. Many sessions use one Model at once.
type Model struct {
	Entry
	Net     *zoo.Model
	Summary *zoo.Summary
}

// Opener builds the network of an entry.
type Opener func(Entry) (*zoo.Model, error)

// Catalog is a fixed list of entries whose networks are opened on first use
// and shared by every session that uses them. It is safe for concurrent use:
// a model is built outside the catalog's lock, once however many sessions
// ask for it at the same time, so opening VGG-19 never stalls a LeNet-5 run.
type Catalog struct {
	entries []Entry
	open    Opener

	mu    sync.Mutex
	slots map[string]*slot // opened models, and models being built
	// idle lists untrained models that no session holds, oldest first: at
	// most keepUntrained stay in memory (an untrained VGG holds 550 MB).
	// A model in use is never dropped, so the next session shares it
	// rather than building a copy.
	idle      []string
	summaries map[string]*zoo.Summary
	// dropped names the entries whose models may leave memory when idle
	// (untrained ones, and checkpoints read from files, which are read
	// again when next opened); the embedded small ones stay.
	dropped map[string]bool
	// private are visitors' own models (AddPrivate), by name.
	private map[string]*privateModel
	// files are the checkpoints entries are read from (AddFiles, Add,
	// AddSnapshots), by entry name.
	files map[string]File
	// snapshots are, by entry name, the weights a training run kept after
	// some of its epochs (AddSnapshots), in epoch order: entries opened by
	// name but not listed.
	snapshots map[string][]Snapshot
}

// Snapshot is an entry's weights after one epoch of its training (Figure
// 4's feature evolution): a model of its own, opened by Name.
type Snapshot struct {
	Entry
	// Of is the entry the snapshot is of; Epoch the epoch it ended.
	Of    string
	Epoch int
}

// privateModel is one visitor's model: opened by name only, and dropped
// when its last holder lets go.
type privateModel struct {
	model  *Model
	refs   int
	opened bool
}

// MaxPrivate bounds the visitors' own models held at once.
const MaxPrivate = 4

// slot is one model of the catalog, built or being built.
type slot struct {
	ready chan struct{} // closed when the build has ended
	model *Model
	err   error
	refs  int // holders: Open calls not yet Released
}

// keepUntrained is how many untrained models no session holds stay opened.
const keepUntrained = 2

// New makes a catalog of entries opened with open. The first entry is the
// default model.
func New(entries []Entry, open Opener) *Catalog {
	c := &Catalog{entries: entries, open: open, slots: map[string]*slot{}, summaries: map[string]*zoo.Summary{}, dropped: map[string]bool{}}
	for _, e := range entries {
		c.dropped[e.Name] = !e.Trained
	}
	return c
}

// Entries lists the models in catalog order.
func (c *Catalog) Entries() []Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Entry(nil), c.entries...)
}

// Lookup returns the entry called name; an empty name is the default entry.
// A name no entry has is also tried as an architecture: the first entry
// whose Model is name ("lenet5" finds "lenet5-fashion-mnist", as trained
// entries come first), so the zoo's and the CLI's names work in URLs too.
func (c *Catalog) Lookup(name string) (Entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) == 0 {
		return Entry{}, fmt.Errorf("no models in the catalog")
	}
	if name == "" {
		return c.entries[0], nil
	}
	for _, e := range c.entries {
		if e.Name == name {
			return e, nil
		}
	}
	if parent, _, ok := strings.Cut(name, SnapshotMark); ok {
		for _, s := range c.snapshots[parent] {
			if s.Name == name {
				return s.Entry, nil
			}
		}
	}
	for _, e := range c.entries {
		if e.Model == name {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("unknown model %q", name)
}

// SnapshotMark joins an entry's name and a snapshot's epoch in the
// snapshot's name: "trained-lenet5-run-1@epoch-3".
const SnapshotMark = "@epoch-"

// AddSnapshots lists the weights entry of kept after the given epochs
// (files[i] after epochs[i], convscope checkpoints of of's architecture)
// as its snapshots, replacing any it had. Each is read once here, to
// check it builds as of's architecture, and again when opened; like any
// file's model it leaves memory when idle.
func (c *Catalog) AddSnapshots(of string, files []string, epochs []int) error {
	parent, err := c.Lookup(of)
	if err != nil || parent.Name != of {
		return fmt.Errorf("snapshots of %q: no such entry", of)
	}
	if len(files) != len(epochs) {
		return fmt.Errorf("snapshots of %s: %d files for %d epochs", of, len(files), len(epochs))
	}
	var snaps []Snapshot
	paths := map[string]string{}
	for i, path := range files {
		m, e, err := card.Load("", path, 0)
		if err != nil {
			return fmt.Errorf("snapshot of %s: %w", of, err)
		}
		if m.Name != parent.Model || m.Variant != parent.Variant || !slices.Equal(m.Input, parent.Input) || len(e.Classes) != len(parent.Classes) {
			return fmt.Errorf("snapshot %s is %s on %v, not %s's architecture", path, m.Label(), m.Input, of)
		}
		e.Name = fmt.Sprintf("%s%s%d", of, SnapshotMark, epochs[i])
		e.Classes = parent.Classes
		e.Source = fmt.Sprintf("%s's weights after epoch %d", of, epochs[i])
		snaps = append(snaps, Snapshot{Entry: e, Of: of, Epoch: epochs[i]})
		paths[e.Name] = path
	}
	slices.SortFunc(snaps, func(a, b Snapshot) int { return a.Epoch - b.Epoch })
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snapshots == nil {
		c.snapshots = map[string][]Snapshot{}
	}
	if c.files == nil {
		c.files = map[string]File{}
	}
	c.snapshots[of] = snaps
	for _, s := range snaps {
		c.files[s.Name] = File{Path: paths[s.Name], Model: s.Model}
		c.dropped[s.Name] = true
	}
	return nil
}

// Snapshots lists the snapshots of the entry called name, or of the entry
// the snapshot called name is of, in epoch order; none for most entries.
func (c *Catalog) Snapshots(name string) []Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	if parent, _, ok := strings.Cut(name, SnapshotMark); ok {
		name = parent
	}
	return append([]Snapshot(nil), c.snapshots[name]...)
}

// Open returns the opened model called name (empty: the default), building
// it on first use, and holds it for the caller until Release: a held model
// stays in memory and every Open of it returns the same one. A caller that
// never releases keeps the model for the catalog's lifetime.
func (c *Catalog) Open(name string) (*Model, error) {
	c.mu.Lock()
	if p, ok := c.private[name]; ok {
		p.refs++
		p.opened = true
		c.mu.Unlock()
		return p.model, nil
	}
	c.mu.Unlock()
	e, err := c.Lookup(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	s, found := c.slots[e.Name]
	if !found {
		s = &slot{ready: make(chan struct{})}
		c.slots[e.Name] = s
	}
	s.refs++
	c.idle = slices.DeleteFunc(c.idle, func(n string) bool { return n == e.Name })
	c.mu.Unlock()
	if !found {
		m, err := c.build(e)
		c.mu.Lock()
		s.model, s.err = m, err
		if err != nil {
			delete(c.slots, e.Name) // the next Open tries again
		} else {
			c.summaries[e.Name] = m.Summary
		}
		c.mu.Unlock()
		close(s.ready)
	}
	<-s.ready
	if s.err != nil {
		return nil, s.err
	}
	return s.model, nil
}

// build opens and summarizes one entry (outside the lock).
func (c *Catalog) build(e Entry) (*Model, error) {
	c.mu.Lock()
	f, isFile := c.files[e.Name]
	c.mu.Unlock()
	var net *zoo.Model
	var err error
	if isFile {
		net, _, err = card.Load(f.Model, f.Path, 0)
	} else {
		net, err = c.open(e)
	}
	if err != nil {
		return nil, fmt.Errorf("open model %s: %w", e.Name, err)
	}
	sum, err := zoo.Summarize(net)
	if err != nil {
		return nil, fmt.Errorf("summarize model %s: %w", e.Name, err)
	}
	return &Model{Entry: e, Net: net, Summary: sum}, nil
}

// Release gives back one hold on m taken by Open. An untrained model, or
// one read from a file, that no one holds any more joins the idle ones, of
// which only the keepUntrained most recent stay in memory.
func (c *Catalog) Release(m *Model) {
	if m == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.private[m.Name]; ok && p.model == m {
		if p.refs--; p.refs <= 0 {
			delete(c.private, m.Name) // its visitor's session is over
		}
		return
	}
	s, ok := c.slots[m.Name]
	if !ok || s.model != m || s.refs == 0 {
		return
	}
	if s.refs--; s.refs > 0 || !c.dropped[m.Name] {
		return
	}
	c.idle = append(c.idle, m.Name)
	for len(c.idle) > keepUntrained {
		delete(c.slots, c.idle[0])
		c.idle = c.idle[1:]
	}
}

// Loaded lists the names of the models in memory (held, idle or being
// built, and visitors' own), sorted.
func (c *Catalog) Loaded() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.slots)+len(c.private))
	for n := range c.slots {
		names = append(names, n)
	}
	for n := range c.private {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Summary returns the layer table of model name (empty: the default),
// remembering it; a model opened only for its summary is released at once
// (an untrained one then stays among the idle ones for a while).
func (c *Catalog) Summary(name string) (Entry, *zoo.Summary, error) {
	e, err := c.Lookup(name)
	if err != nil {
		return Entry{}, nil, err
	}
	c.mu.Lock()
	s, ok := c.summaries[e.Name]
	c.mu.Unlock()
	if ok {
		return e, s, nil
	}
	m, err := c.Open(e.Name)
	if err != nil {
		return e, nil, err
	}
	c.Release(m)
	return e, m.Summary, nil
}

// AddZoo appends an untrained entry for every zoo architecture that no
// entry already names as its model: the whole zoo is listed, and the page
// says plainly which models have no trained weights. The ImageNet-size ones
// are labelled with ImageNet's classes and its normalisation; one-channel
// small forms (1x28x28, 10 classes) with Fashion-MNIST's; the three-channel
// CIFAR-shaped ones (resnet20..56 and their _b forms) with no dataset and
// "class 0".."class 9", since no data of theirs ships with convscope.
func (c *Catalog) AddZoo() {
	have := map[string]bool{}
	for _, e := range c.entries {
		have[e.Model] = true
	}
	added := map[string]bool{}
	trained := c.open
	c.open = func(e Entry) (*zoo.Model, error) {
		if added[e.Name] {
			return zoo.Build(e.Model, e.Input, len(e.Classes), 0)
		}
		return trained(e)
	}
	for _, name := range zoo.Names() {
		if have[name] {
			continue
		}
		e, err := card.Untrained(name, 0)
		if err != nil {
			continue // zoo.Names lists only what Lookup finds
		}
		c.entries = append(c.entries, e)
		c.dropped[e.Name] = true
		added[name] = true
	}
}

// FashionMNIST lists Fashion-MNIST's class names in label order.
var FashionMNIST = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// Untrained is a catalog of one randomly initialised zoo model (default
// input and classes), labelled as Fashion-MNIST when it is shaped for it
// (one channel, 10 classes) and with no dataset and numbered classes
// otherwise: for tests, and for a server built before any trained weights
// exist.
func Untrained(model string, seed uint64) (*Catalog, error) {
	f, err := zoo.Lookup(model)
	if err != nil {
		return nil, err
	}
	e := Entry{Name: model + "-untrained", Model: model, Input: f.Input, Classes: card.Numbered(f.Classes),
		Source: fmt.Sprintf("random initialisation, seed %d", seed)}
	if f.Classes == len(FashionMNIST) && f.Input[0] == 1 {
		e.Dataset, e.Classes = "fashion-mnist", append([]string(nil), FashionMNIST...)
	}
	return New([]Entry{e}, func(e Entry) (*zoo.Model, error) {
		return zoo.Build(e.Model, e.Input, len(e.Classes), seed)
	}), nil
}

// File is a checkpoint to list in the catalog: a convscope checkpoint or a
// PyTorch state_dict (.pth, .safetensors) at Path, of architecture Model
// ("" to identify it from its tensors, zoo.Identify).
type File struct {
	Path  string
	Model string
}

// AddFiles reads each checkpoint once, to check it builds and to make its
// card (card.Load: named after the file without its extension), and lists
// them first, in order: the first becomes the default model. A file that
// fails is left out and its error, which names it, returned in errs (one
// per file, nil for those added); the name of a trained model already in
// the catalog, or of an earlier file, is such an error too, while a file
// named as an untrained architecture ("resnet18.pth") takes its place. The models are read again when opened, and leave memory when
// idle. Call it before serving.
func (c *Catalog) AddFiles(files []File) (errs []error) {
	errs = make([]error, len(files))
	var added []Entry
	paths := map[string]File{}
	taken := map[string]bool{} // by a trained model or an earlier file
	for _, e := range c.entries {
		taken[e.Name] = e.Trained
	}
	for i, f := range files {
		_, e, err := card.Load(f.Model, f.Path, 0)
		if err == nil && taken[e.Name] {
			err = fmt.Errorf("%s: the name %q is taken (rename the file)", f.Path, e.Name)
		}
		if err != nil {
			errs[i] = err
			continue
		}
		taken[e.Name] = true
		paths[e.Name] = File{Path: f.Path, Model: e.Model}
		c.dropped[e.Name] = true
		added = append(added, e)
	}
	// A file named as an untrained architecture ("resnet18.pth") takes
	// its place.
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = slices.DeleteFunc(c.entries, func(e Entry) bool { _, ok := paths[e.Name]; return ok })
	c.entries = append(added, c.entries...)
	if c.files == nil {
		c.files = map[string]File{}
	}
	maps.Copy(c.files, paths)
	return errs
}

// Add lists one more checkpoint, first in the menu, while the catalog
// serves (a training run that has just finished): it is read to check it
// builds and to make its card, named after the file without its
// extension, which must be new.
func (c *Catalog) Add(f File) (Entry, error) {
	_, e, err := card.Load(f.Model, f.Path, 0)
	if err != nil {
		return Entry{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if slices.ContainsFunc(c.entries, func(o Entry) bool { return o.Name == e.Name }) {
		return Entry{}, fmt.Errorf("%s: the name %q is taken", f.Path, e.Name)
	}
	if c.files == nil {
		c.files = map[string]File{}
	}
	c.files[e.Name] = File{Path: f.Path, Model: e.Model}
	c.dropped[e.Name] = true
	c.entries = append([]Entry{e}, c.entries...)
	return e, nil
}

// AddPrivate keeps one visitor's own model (an upload) under e.Name:
// Open finds it by that name, Entries does not list it,
// and it leaves memory when the last session holding it releases it, or
// after unclaimed if no session opened it by then. At most MaxPrivate are
// kept at once; past that it is an error saying so. A name held already
// is kept as it is (ownmodel names a model by its file's content, so the
// same name is the same model).
func (c *Catalog) AddPrivate(e Entry, net *zoo.Model, unclaimed time.Duration) error {
	sum, err := zoo.Summarize(net)
	if err != nil {
		return fmt.Errorf("summarize model %s: %w", e.Name, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.private == nil {
		c.private = map[string]*privateModel{}
	}
	if _, held := c.private[e.Name]; held {
		return nil
	}
	if len(c.private) >= MaxPrivate {
		return fmt.Errorf("the server holds %d visitors' own models already; try again in a few minutes", MaxPrivate)
	}
	p := &privateModel{model: &Model{Entry: e, Net: net, Summary: sum}}
	c.private[e.Name] = p
	time.AfterFunc(unclaimed, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.private[e.Name] == p && !p.opened {
			delete(c.private, e.Name)
		}
	})
	return nil
}
