package catalog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/zoo"
)

func TestCatalog(t *testing.T) {
	opened := 0
	var mu sync.Mutex
	c := New([]Entry{{Name: "a", Model: "lenet5"}, {Name: "b", Model: "nope"}}, func(e Entry) (*zoo.Model, error) {
		mu.Lock()
		opened++
		mu.Unlock()
		if e.Model == "nope" {
			return nil, errors.New("no such architecture")
		}
		return zoo.Build(e.Model, nil, 0, 1)
	})
	var wg sync.WaitGroup
	models := make([]*Model, 8)
	for i := range models {
		wg.Go(func() {
			m, err := c.Open("")
			if err != nil {
				t.Error(err)
			}
			models[i] = m
		})
	}
	wg.Wait()
	if opened != 1 || models[0] == nil || models[0] != models[7] || models[0].Name != "a" || len(models[0].Summary.Layers) != 12 {
		t.Fatalf("opened %d times; model %+v", opened, models[0])
	}
	if _, err := c.Open("b"); err == nil || !strings.Contains(err.Error(), "open model b") {
		t.Fatalf("opening a broken entry: %v", err)
	}
	if _, err := c.Open("zzz"); err == nil || !strings.Contains(err.Error(), `unknown model "zzz"`) {
		t.Fatalf("opening an unknown entry: %v", err)
	}
	if _, err := New(nil, nil).Lookup(""); err == nil {
		t.Fatal("an empty catalog has a default")
	}
}

func TestUntrained(t *testing.T) {
	c, err := Untrained("lenet5", 1)
	if err != nil {
		t.Fatal(err)
	}
	e := c.Entries()[0]
	if e.Trained || e.Dataset != "fashion-mnist" || e.Classes[9] != "Ankle boot" || e.Input[1] != 28 {
		t.Fatalf("entry %+v", e)
	}
	if _, err := Untrained("nope", 1); err == nil {
		t.Fatal("an unknown architecture gave a catalog")
	}
}

func TestUntrainedThreeChannelHasNoDataset(t *testing.T) {
	c, err := Untrained("resnet56", 1)
	if err != nil {
		t.Fatal(err)
	}
	e := c.Entries()[0]
	if e.Dataset != "" || len(e.Classes) != 10 || e.Classes[0] != "class 0" || e.Classes[9] != "class 9" {
		t.Fatalf("entry %+v", e)
	}
}

func TestLookupFallsBackToArchitecture(t *testing.T) {
	c := New([]Entry{
		{Name: "lenet5-fashion-mnist", Model: "lenet5"},
		{Name: "lenet5-mnist", Model: "lenet5"},
		{Name: "resnet20", Model: "resnet20_b"},
		{Name: "resnet20-fashion-mnist", Model: "resnet20"},
	}, func(e Entry) (*zoo.Model, error) { return zoo.Build(e.Model, nil, 0, 1) })
	for name, want := range map[string]string{
		"lenet5":        "lenet5-fashion-mnist", // the first entry of the architecture
		"lenet5-mnist":  "lenet5-mnist",
		"resnet20":      "resnet20", // a name beats an architecture
		"resnet20_b":    "resnet20",
		"":              "lenet5-fashion-mnist",
		"lenet5_1998":   "",
		"lenet5-fashio": "",
	} {
		e, err := c.Lookup(name)
		switch {
		case want == "" && err == nil:
			t.Errorf("Lookup(%q) found %q, want an error", name, e.Name)
		case want != "" && (err != nil || e.Name != want):
			t.Errorf("Lookup(%q) = %q, %v; want %q", name, e.Name, err, want)
		}
	}
	m, err := c.Open("lenet5")
	if err != nil || m.Name != "lenet5-fashion-mnist" {
		t.Fatalf("Open(lenet5): %v", err)
	}
	if again, _ := c.Open("lenet5-fashion-mnist"); again != m {
		t.Error("the architecture's name opened a second copy of its entry")
	}
	if e, _, err := c.Summary("lenet5"); err != nil || e.Name != "lenet5-fashion-mnist" {
		t.Errorf("Summary(lenet5) = %q, %v", e.Name, err)
	}
}

func TestInvertsBrightPictures(t *testing.T) {
	for _, tc := range []struct {
		e    Entry
		want bool
	}{
		{Entry{Input: []int{1, 28, 28}, Dataset: "fashion-mnist"}, true},
		{Entry{Input: []int{1, 28, 28}, Dataset: "mnist"}, true},
		{Entry{Input: []int{3, 28, 28}, Dataset: "fashion-mnist"}, false},
		{Entry{Input: []int{3, 32, 32}, Dataset: ""}, false},
		{Entry{Input: []int{3, 224, 224}, Dataset: "imagenet"}, false},
		{Entry{Input: []int{3, 32, 32}, Dataset: "cifar10"}, false},
		{Entry{Input: []int{1, 28, 28}, Dataset: ""}, false},
		{Entry{Dataset: "mnist"}, false},
	} {
		if got := tc.e.InvertsBrightPictures(); got != tc.want {
			t.Errorf("%v on %q: InvertsBrightPictures = %v, want %v", tc.e.Input, tc.e.Dataset, got, tc.want)
		}
	}
}

func TestDatasetLabel(t *testing.T) {
	if got := (Entry{Dataset: "mnist"}).DatasetLabel(); got != "mnist" {
		t.Errorf("mnist's label is %q", got)
	}
	if got := (Entry{}).DatasetLabel(); got != "none (untrained, no dataset)" {
		t.Errorf("no dataset's label is %q", got)
	}
}

// Untrained models in use are shared, never dropped: while a session holds
// one, others opening it get the same copy, however many other models come
// and go; once no one holds it, it is one of the idle ones, of which only
// the newest keepUntrained stay.
func TestHeldModelsAreSharedAndIdleOnesEvicted(t *testing.T) {
	builds := map[string]int{}
	var mu sync.Mutex
	var entries []Entry
	for _, n := range []string{"a", "b", "c", "d"} {
		entries = append(entries, Entry{Name: n, Model: "lenet5"})
	}
	c := New(entries, func(e Entry) (*zoo.Model, error) {
		mu.Lock()
		builds[e.Name]++
		mu.Unlock()
		return zoo.Build(e.Model, nil, 0, 1)
	})
	held, err := c.Open("a")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"b", "c", "d", "b"} {
		m, err := c.Open(n)
		if err != nil {
			t.Fatal(err)
		}
		c.Release(m)
	}
	if again, _ := c.Open("a"); again != held || builds["a"] != 1 {
		t.Fatalf("a held model was built %d times", builds["a"])
	}
	// Releasing b, c, d in turn left c and d idle (b, the oldest, went);
	// reopening b built it again and its release dropped c: d and b stay,
	// and a, held twice now.
	if got := fmt.Sprint(c.Loaded()); got != "[a b d]" {
		t.Fatalf("in memory %s, want [a b d]", got)
	}
	c.Release(held)
	c.Release(held)
	c.Release(held) // one release too many changes nothing
	if got := fmt.Sprint(c.Loaded()); got != "[a b]" {
		t.Fatalf("in memory %s after a's release, want [a b] (d is the oldest idle)", got)
	}
	if builds["b"] != 2 || builds["c"] != 1 || builds["d"] != 1 {
		t.Fatalf("builds %v", builds)
	}
}

// A model being built does not hold the catalog: another model opens
// meanwhile, and the slow one is built once for all who wait for it.
func TestBuildsDoNotBlockOtherModels(t *testing.T) {
	slow := make(chan struct{})
	var mu sync.Mutex
	builds := 0
	c := New([]Entry{{Name: "slow", Model: "lenet5"}, {Name: "fast", Model: "lenet5"}}, func(e Entry) (*zoo.Model, error) {
		if e.Name == "slow" {
			mu.Lock()
			builds++
			mu.Unlock()
			<-slow
		}
		return zoo.Build(e.Model, nil, 0, 1)
	})
	var wg sync.WaitGroup
	got := make([]*Model, 3)
	for i := range got {
		wg.Go(func() { got[i], _ = c.Open("slow") })
	}
	if _, err := c.Open("fast"); err != nil { // returns while slow is still building
		t.Fatal(err)
	}
	close(slow)
	wg.Wait()
	if builds != 1 || got[0] == nil || got[0] != got[1] || got[1] != got[2] {
		t.Fatalf("slow built %d times: %p %p %p", builds, got[0], got[1], got[2])
	}
}

// AddFiles lists checkpoints first, named after their files; a file that
// fails, or whose name a trained model has, is left out with an error
// naming it; a file named as an untrained architecture takes its place.
func TestAddFiles(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	c.AddZoo()
	dir := t.TempDir()
	pth, _ := os.ReadFile("../../zoo/testdata/lenet5.pth")
	for name, b := range map[string][]byte{"my-lenet.pth": pth, "lenet5.pth": pth, "lenet5-fashion-mnist.pth": pth, "junk.pth": []byte("junk")} {
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	files := []File{{Path: filepath.Join(dir, "my-lenet.pth")}, {Path: filepath.Join(dir, "junk.pth")},
		{Path: filepath.Join(dir, "lenet5-fashion-mnist.pth")}, {Path: filepath.Join(dir, "lenet5.pth"), Model: "lenet5"},
		{Path: filepath.Join(dir, "my-lenet.pth"), Model: "resnet20"}}
	errs := c.AddFiles(files)
	for i, want := range []string{"", "junk.pth", `the name "lenet5-fashion-mnist" is taken`, "", "my-lenet.pth into resnet20"} {
		if got := errs[i]; (want == "") != (got == nil) || got != nil && !strings.Contains(got.Error(), want) {
			t.Errorf("file %d: %v, want %q", i, got, want)
		}
	}
	entries := c.Entries()
	if entries[0].Name != "my-lenet" || entries[1].Name != "lenet5" || !entries[1].Trained || entries[0].Source != "file my-lenet.pth" {
		t.Fatalf("first entries %s (%s), %s", entries[0].Name, entries[0].Source, entries[1].Name)
	}
	n := 0
	for _, e := range entries {
		if e.Name == "lenet5" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d entries named lenet5: the file did not take the untrained one's place", n)
	}
	// Opened, the file's weights are there; idle, it leaves memory.
	m, err := c.Open("my-lenet")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := zoo.ReadStateDict("../../zoo/testdata/lenet5.pth")
	if got := m.Net.Net.State()["c1.weight"]; got.Data[3] != want["c1.weight"].Data[3] {
		t.Error("my-lenet does not hold the file's weights")
	}
	c.Release(m)
	for _, name := range []string{"lenet5_1998", "resnet20_b", "resnet32_b"} {
		o, err := c.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		c.Release(o)
	}
	if slices.Contains(c.Loaded(), "my-lenet") {
		t.Errorf("my-lenet still in memory after three other idle models: %v", c.Loaded())
	}
}

// A checkpoint added while the catalog serves (a finished training run)
// is listed first and opens; its name cannot be taken twice; readers
// running meanwhile see the list before or after, whole.
func TestAddWhileServing(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../weights/lenet5-fashion-mnist.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "run-1-lenet5.safetensors")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	before := len(c.Entries())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			if n := len(c.Entries()); n != before && n != before+1 {
				t.Errorf("%d entries", n)
			}
			_, _ = c.Lookup("run-1-lenet5")
		}
	}()
	e, err := c.Add(File{Path: path})
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Entries(); len(got) != before+1 || got[0].Name != "run-1-lenet5" || e.Dataset != "fashion-mnist" {
		t.Fatalf("entries %d, first %q, dataset %q", len(got), got[0].Name, e.Dataset)
	}
	m, err := c.Open("run-1-lenet5")
	if err != nil || m.Net.Name != "lenet5" {
		t.Fatalf("open: %v", err)
	}
	c.Release(m)
	if _, err := c.Add(File{Path: path}); err == nil || !strings.Contains(err.Error(), "taken") {
		t.Errorf("the same name twice: %v", err)
	}
}

// A run's snapshots open by name (with the weights of their own file) but
// join no menu; one of another architecture is refused.
func TestAddSnapshots(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyFile := func(src, name string) string {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	final := copyFile("../../weights/lenet5-fashion-mnist.safetensors", "run.safetensors")
	e1 := copyFile("../../weights/lenet5-mnist.safetensors", "epoch-001.safetensors")
	e2 := copyFile("../../weights/lenet5-fashion-mnist.safetensors", "epoch-002.safetensors")
	if _, err := c.Add(File{Path: final}); err != nil {
		t.Fatal(err)
	}
	listed := len(c.Entries())
	if err := c.AddSnapshots("run", []string{e2, e1}, []int{2, 1}); err != nil {
		t.Fatal(err)
	}
	if len(c.Entries()) != listed {
		t.Errorf("snapshots joined the menu")
	}
	snaps := c.Snapshots("run@epoch-2")
	if len(snaps) != 2 || snaps[0].Name != "run@epoch-1" || snaps[0].Epoch != 1 || snaps[1].Of != "run" {
		t.Fatalf("snapshots %+v", snaps)
	}
	// each opens its own file: epoch 1 holds the MNIST model's weights
	m1, err := c.Open("run@epoch-1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release(m1)
	mnist, _, err := card.Load("", e1, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := mnist.Net.State()["c1.weight"].Data
	if got := m1.Net.Net.State()["c1.weight"].Data; got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
		t.Error("snapshot 1 opened other weights than its file's")
	}
	if m1.Classes[0] != "T-shirt/top" {
		t.Errorf("a snapshot is labelled %v, want its run's classes", m1.Classes[:2])
	}
	resnet := copyFile("../../weights/resnet20-fashion-mnist.safetensors", "epoch-003.safetensors")
	if err := c.AddSnapshots("run", []string{resnet}, []int{3}); err == nil || !strings.Contains(err.Error(), "not run's architecture") {
		t.Errorf("a ResNet snapshot of a LeNet run: %v", err)
	}
	if err := c.AddSnapshots("nobody", []string{e1}, []int{1}); err == nil {
		t.Error("snapshots of no entry were added")
	}
}
