package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/zoo"
)

// snapshotName is a snapshot's file name: train.SnapshotName's pattern.
var snapshotName = regexp.MustCompile(`^epoch-([0-9]{3,})\.safetensors$`)

// SnapshotFiles lists dir's epoch-NNN.safetensors files in epoch order.
func SnapshotFiles(dir string) ([]string, []int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	type snap struct {
		path  string
		epoch int
	}
	var found []snap
	for _, e := range entries {
		m := snapshotName.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 {
			return nil, nil, fmt.Errorf("%s: %q is not an epoch", filepath.Join(dir, e.Name()), m[1])
		}
		found = append(found, snap{filepath.Join(dir, e.Name()), n})
	}
	if len(found) == 0 {
		return nil, nil, fmt.Errorf("%s holds no epoch-NNN.safetensors snapshots (convscope train -snapshots %s writes them)", dir, dir)
	}
	slices.SortFunc(found, func(a, b snap) int { return a.epoch - b.epoch })
	files, epochs := make([]string, len(found)), make([]int, len(found))
	for i, s := range found {
		if i > 0 && s.epoch == found[i-1].epoch {
			return nil, nil, fmt.Errorf("%s and %s are both epoch %d", found[i-1].path, s.path, s.epoch)
		}
		files[i], epochs[i] = s.path, s.epoch
	}
	return files, epochs, nil
}

// ReadSnapshots loads the snapshots of one run from dir (SnapshotFiles),
// in epoch order, and checks they are one architecture with one
// normalisation; it returns the first's model and card too.
func ReadSnapshots(dir string) ([]Snapshot, *zoo.Model, card.Card, error) {
	files, epochs, err := SnapshotFiles(dir)
	if err != nil {
		return nil, nil, card.Card{}, err
	}
	snaps := make([]Snapshot, len(files))
	var first *zoo.Model
	var fc card.Card
	for i, f := range files {
		m, c, err := card.Load("", f, 0)
		if err != nil {
			return nil, nil, card.Card{}, err
		}
		if i == 0 {
			first, fc = m, c
		} else if m.Name != first.Name || !slices.Equal(m.Input, first.Input) || m.Classes != first.Classes ||
			!slices.Equal(c.Pre.Mean, fc.Pre.Mean) || !slices.Equal(c.Pre.Std, fc.Pre.Std) {
			return nil, nil, card.Card{}, fmt.Errorf("%s is %s %v (%d classes, mean %v, std %v); %s is %s %v (%d classes, mean %v, std %v): snapshots of one run, please",
				f, m.Name, m.Input, m.Classes, c.Pre.Mean, c.Pre.Std, files[0], first.Name, first.Input, first.Classes, fc.Pre.Mean, fc.Pre.Std)
		}
		snaps[i] = Snapshot{Epoch: epochs[i], Net: m.Net}
	}
	return snaps, first, fc, nil
}
