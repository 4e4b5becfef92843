package train

// Snapshots: the model's weights kept after chosen epochs, each a
// convscope checkpoint that card.Load reads like a run's final one, for
// watching features form during training (Zeiler & Fergus' Figure 4). Not
// the run's state (state.go): a snapshot holds no optimizer and no
// position, and nothing resumes from it.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/convscope/convscope/zoo"
)

// SnapshotName is the file, inside Config.SnapshotDir, of the snapshot
// taken after epoch (1-based): "epoch-003.safetensors".
func SnapshotName(epoch int) string { return fmt.Sprintf("epoch-%03d.safetensors", epoch) }

// MetaEpoch is the metadata key naming the epoch after which a snapshot
// (or convscope train's -best checkpoint) was taken.
const MetaEpoch = "epoch"

// EpochMeta adds an epoch's figures to a checkpoint's metadata: its test
// accuracy (zoo.MetaTestAccuracy, 4 decimals) and the run's training time
// so far (zoo.MetaWallTime, to the second). meta is not changed.
func EpochMeta(meta map[string]string, r EpochResult) map[string]string {
	out := map[string]string{}
	for k, v := range meta {
		out[k] = v
	}
	out[zoo.MetaTestAccuracy] = strconv.FormatFloat(r.TestAccuracy, 'f', 4, 64)
	out[zoo.MetaWallTime] = r.Elapsed.Round(time.Second).String()
	return out
}

// snapshots checks cfg's snapshot settings and returns the set of epochs
// to keep (nil when there is no SnapshotDir), creating the directory.
func snapshots(cfg Config) (map[int]bool, error) {
	if cfg.SnapshotDir == "" {
		if len(cfg.SnapshotEpochs) > 0 {
			return nil, fmt.Errorf("train: snapshot epochs %v but no snapshot directory", cfg.SnapshotEpochs)
		}
		return nil, nil
	}
	keep := map[int]bool{}
	for _, e := range cfg.SnapshotEpochs {
		if e < 1 || e > cfg.Epochs {
			return nil, fmt.Errorf("train: snapshot epoch %d is not one of the run's epochs 1..%d", e, cfg.Epochs)
		}
		keep[e] = true
	}
	if len(keep) == 0 {
		for e := 1; e <= cfg.Epochs; e++ {
			keep[e] = true
		}
	}
	if err := os.MkdirAll(cfg.SnapshotDir, 0o755); err != nil {
		return nil, fmt.Errorf("train: snapshot directory: %w", err)
	}
	return keep, nil
}

// snapshot writes the weights after epoch res.Epoch, if it is one to keep:
// SnapshotMeta with the epoch's figures (EpochMeta), MetaEpoch, and
// zoo.MetaEpochs set to the passes these weights have had.
func (r *run) snapshot(res EpochResult) error {
	if !r.keep[res.Epoch] {
		return nil
	}
	meta := EpochMeta(r.cfg.SnapshotMeta, res)
	meta[MetaEpoch] = strconv.Itoa(res.Epoch)
	meta[zoo.MetaEpochs] = strconv.Itoa(res.Epoch)
	path := filepath.Join(r.cfg.SnapshotDir, SnapshotName(res.Epoch))
	if err := zoo.SaveCheckpoint(path, r.m, meta); err != nil {
		return fmt.Errorf("train: snapshot after epoch %d: %w", res.Epoch, err)
	}
	return nil
}
