package experiment

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"

	"github.com/convscope/convscope/nn"
)

// WeightsHash identifies a network's weights: the SHA-256 of every
// parameter's and buffer's name, shape and values, in the model's order,
// as hex. Two checkpoints with the same tensors hash alike whatever their
// file format, and a scan cached under one is valid for the other.
func WeightsHash(net *nn.Sequential) string {
	h := sha256.New()
	var buf [8]byte
	for _, p := range append(net.Params(), net.Buffers()...) {
		fmt.Fprintf(h, "%s %v\n", p.Name, p.Value.Shape)
		for _, v := range p.Value.Data {
			binary.LittleEndian.PutUint32(buf[:4], math.Float32bits(v))
			h.Write(buf[:4])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ScanKey names one scan: the weights (WeightsHash), the dataset and its
// split, the layer and k.
type ScanKey struct {
	Weights, Dataset, Split, Layer string
	K, Images                      int
}

// unsafeFile matches what may not stand in a cache file's name.
var unsafeFile = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// File is the key's file name in a cache directory.
func (k ScanKey) File() string {
	w := k.Weights
	if len(w) > 24 {
		w = w[:24]
	}
	return unsafeFile.ReplaceAllString(fmt.Sprintf("topk-%s-%s-%s-%s-k%d-n%d.json", w, k.Dataset, k.Split, k.Layer, k.K, k.Images), "_")
}

// cached is a scan as the cache file holds it, with its whole key.
type cached struct {
	Weights string `json:"weights"`
	Dataset string `json:"dataset"`
	Split   string `json:"split"`
	*TopK
}

// LoadScan reads the scan of key from dir; ok is false when there is
// none (or the file is not this key's scan: a hash prefix that collides,
// a file cut short).
func LoadScan(dir string, key ScanKey) (r *TopK, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, key.File()))
	if err != nil {
		return nil, false
	}
	var c cached
	if json.Unmarshal(b, &c) != nil || c.TopK == nil || c.Weights != key.Weights || c.Dataset != key.Dataset ||
		c.Split != key.Split || c.Layer != key.Layer || c.K != key.K || c.Images != key.Images {
		return nil, false
	}
	return c.TopK, true
}

// SaveScan writes r under key into dir (created if need be), through a
// temporary file renamed into place, so that a reader never sees half a
// file.
func SaveScan(dir string, key ScanKey, r *TopK) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(cached{key.Weights, key.Dataset, key.Split, r})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".topk-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, key.File())); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
