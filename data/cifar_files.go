package data

// CIFAR-10 and CIFAR-100 on this machine: where the extracted folders are
// looked for (the same directories as the IDX datasets, SearchDirs), the
// official archives, their checksums, and their verified download and
// extraction into the cache. The file format itself is cifar.go's.
//
// Where the checksums come from (none could be recomputed here: the
// archives cannot be downloaded on the machine this was written on):
//
//   - MD5: the table on the dataset's page,
//     https://www.cs.toronto.edu/~kriz/cifar.html ("CIFAR-10 binary
//     version (suitable for C programs) 162 MB c32a1d4a..."; "CIFAR-100
//     binary version 161 MB 03b5dce0..."), as quoted by projects that copy
//     it and as checked by many loaders of the binary version.
//   - SHA-256: not published by the authors. CIFAR-10's is the one given by
//     gomlx, Ruby's red-datasets and a TensorFlow Datasets verification
//     script; CIFAR-100's by gomlx, red-datasets and Julia's MLDatasets,
//     each for the same official URL.
//   - Sizes (170,052,171 and 168,513,733 bytes): the git-annex keys of
//     Mila's datalad mirror of the archives, whose MD5 parts are the
//     official MD5s.
//
// All three must match before an archive is opened.

import (
	"archive/tar"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// cifarDataset describes one CIFAR dataset as distributed.
type cifarDataset struct {
	name    string // "cifar10", "cifar100", "cifar100-coarse"
	store   string // its directory name under the search directories
	folder  string // the folder the archive extracts to
	url     string // the archive
	size    int64  // of the archive, bytes; 0 when unknown
	sha256  string // of the archive
	md5     string // of the archive
	format  CIFARFormat
	train   []string // record files of the training split, in order
	test    []string // record files of the test split
	names   string   // the class-name file for format's label
	extra   []string // other members the archive holds and extraction keeps
	classes []string // the names as distributed, when the names file is absent
}

var cifar10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// cifar100Coarse and cifar100Fine are coarse_label_names.txt and
// fine_label_names.txt of cifar-100-binary.tar.gz, in label order.
var cifar100Coarse = []string{"aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
	"household_electrical_devices", "household_furniture", "insects", "large_carnivores",
	"large_man-made_outdoor_things", "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
	"medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals", "trees",
	"vehicles_1", "vehicles_2"}

var cifar100Fine = []string{"apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle",
	"bicycle", "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle",
	"caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab",
	"crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster",
	"house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man",
	"maple_tree", "motorcycle", "mountain", "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter",
	"palm_tree", "pear", "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine", "possum",
	"rabbit", "raccoon", "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk",
	"skyscraper", "snail", "snake", "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table",
	"tank", "telephone", "television", "tiger", "tractor", "train", "trout", "tulip", "turtle", "wardrobe",
	"whale", "willow_tree", "wolf", "woman", "worm"}

var cifarDatasets = map[string]*cifarDataset{
	"cifar10": {
		name: "cifar10", store: "cifar10", folder: "cifar-10-batches-bin",
		url:    "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
		size:   170052171,
		sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
		md5:    "c32a1d4ab5d03f1284b67883e8d87530",
		format: CIFAR10,
		train:  []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
		test:   []string{"test_batch.bin"},
		names:  "batches.meta.txt", extra: []string{"readme.html"},
		classes: cifar10Classes,
	},
	"cifar100": {
		name: "cifar100", store: "cifar100", folder: "cifar-100-binary",
		url:    "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
		size:   168513733,
		sha256: "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
		md5:    "03b5dce01913d631647c71ecec9e9cb8",
		format: CIFAR100,
		train:  []string{"train.bin"},
		test:   []string{"test.bin"},
		names:  "fine_label_names.txt", extra: []string{"coarse_label_names.txt"},
		classes: cifar100Fine,
	},
}

func init() {
	// CIFAR-100 with its 20 superclasses: the same files, the other label.
	c := *cifarDatasets["cifar100"]
	c.name, c.format, c.names, c.extra, c.classes = "cifar100-coarse", CIFAR100Coarse, "coarse_label_names.txt", []string{"fine_label_names.txt"}, cifar100Coarse
	cifarDatasets[c.name] = &c
}

// maxArchive caps a downloaded CIFAR archive (both are about 170 MB).
const maxArchive = 256 << 20

// CIFARDatasets lists the names FindCIFAR, DownloadCIFAR and OpenCIFAR
// know, sorted: "cifar10", "cifar100" (fine labels) and "cifar100-coarse"
// (the 20 superclasses of the same pictures).
func CIFARDatasets() []string {
	var names []string
	for n := range cifarDatasets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func lookupCIFAR(name string) (*cifarDataset, error) {
	if ds := cifarDatasets[name]; ds != nil {
		return ds, nil
	}
	return nil, fmt.Errorf("unknown CIFAR dataset %q (known: %s)", name, strings.Join(CIFARDatasets(), ", "))
}

// FindCIFAR returns the directory that holds the record files of a CIFAR
// dataset (all six .bin files of cifar-10-batches-bin, or train.bin and
// test.bin of cifar-100-binary; each may be gzipped as .bin.gz). It tries
// each of SearchDirs("cifar10" or "cifar100", flagDir) and, in each, the
// extracted folder inside it, so both .../cifar-10-batches-bin and the
// directory that contains it are accepted. When none holds them, the error
// is a *NotFoundError listing the directories and the files.
func FindCIFAR(name, flagDir string) (string, error) {
	ds, err := lookupCIFAR(name)
	if err != nil {
		return "", err
	}
	dirs := SearchDirs(ds.store, flagDir)
	for _, dir := range dirs {
		for _, d := range []string{dir, filepath.Join(dir, ds.folder)} {
			if hasCIFAR(ds, d) {
				return d, nil
			}
		}
	}
	return "", ds.notFound(dirs, nil)
}

func (ds *cifarDataset) notFound(dirs []string, download error) *NotFoundError {
	var files []string
	for _, f := range slices.Concat(ds.train, ds.test, []string{ds.names}) {
		files = append(files, path.Join(ds.folder, f))
	}
	return &NotFoundError{Name: ds.name, Searched: dirs, Files: files, BaseURL: ds.url, Download: download}
}

// hasCIFAR reports whether dir holds every record file of the dataset.
func hasCIFAR(ds *cifarDataset, dir string) bool {
	for _, f := range slices.Concat(ds.train, ds.test) {
		if idxPath(dir, f) == "" {
			return false
		}
	}
	return true
}

// OpenCIFAR returns the training split (train) or the test split of a
// CIFAR dataset as a (N,3,32,32) ImageSet with its class names (from the
// folder's names file when it is there, else as distributed). It looks
// with FindCIFAR; when the folder is nowhere, it extracts the archive
// (cifar-10-binary.tar.gz, checksummed) from a search directory that holds
// it, or else downloads it into CacheDir (DownloadCIFAR). When that fails
// too (offline), the error is a *NotFoundError saying where to put the
// files.
func OpenCIFAR(name, flagDir string, train bool) (*ImageSet, error) {
	ds, err := lookupCIFAR(name)
	if err != nil {
		return nil, err
	}
	dir, err := FindCIFAR(name, flagDir)
	if nf := (*NotFoundError)(nil); errors.As(err, &nf) {
		cache, cerr := CacheDir(ds.store)
		if cerr == nil {
			cerr = fetchCIFAR(ds, cache, nf.Searched)
		}
		if cerr != nil {
			nf.Download = cerr
			return nil, nf
		}
		dir, err = filepath.Join(cache, ds.folder), nil
	}
	if err != nil {
		return nil, err
	}
	files := ds.test
	if train {
		files = ds.train
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, idxPath(dir, f))
	}
	s, err := LoadCIFAR(ds.format, paths...)
	if err != nil {
		return nil, err
	}
	s.Classes = slices.Clone(ds.classes)
	if p := filepath.Join(dir, ds.names); fileExists(p) {
		if s.Classes, err = readNames(p, len(ds.classes)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// fetchCIFAR puts the extracted folder into cache: from an archive in one
// of dirs when there is one, else by downloading it.
func fetchCIFAR(ds *cifarDataset, cache string, dirs []string) error {
	for _, d := range dirs {
		if p := filepath.Join(d, filepath.Base(ds.url)); fileExists(p) && d != cache {
			if err := os.MkdirAll(cache, 0o755); err != nil {
				return err
			}
			return extractCIFAR(ds, p, cache)
		}
	}
	return DownloadCIFAR(ds.name, cache)
}

// DownloadCIFAR fetches a CIFAR dataset's archive from its official
// address into dir (CacheDir("cifar10") or CacheDir("cifar100") when dir is
// ""), checks its SHA-256, MD5 and size, extracts the dataset's folder into
// dir (dir/cifar-10-batches-bin, say) and removes the archive. An archive
// already in dir with the right checksums is not fetched again, and a
// complete folder already there is kept. A file that fails the check is
// removed. Offline, the error names the address that could not be reached.
func DownloadCIFAR(name, dir string) error {
	ds, err := lookupCIFAR(name)
	if err != nil {
		return err
	}
	if dir == "" {
		if dir, err = CacheDir(ds.store); err != nil {
			return err
		}
	}
	if hasCIFAR(ds, filepath.Join(dir, ds.folder)) {
		return nil
	}
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	arch := filepath.Join(dir, filepath.Base(ds.url))
	if checkArchive(ds, arch) != nil {
		if err := fetchArchive(ds, arch); err != nil {
			if statErr != nil {
				os.Remove(dir) // ours, and still empty when nothing came
			}
			return fmt.Errorf("download %s into %s: %w", name, dir, err)
		}
	}
	if err := extractCIFAR(ds, arch, dir); err != nil {
		return err
	}
	return os.Remove(arch)
}

// checkArchive checks the file at p against the archive's size, SHA-256
// and MD5.
func checkArchive(ds *cifarDataset, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	sh, md := sha256.New(), md5.New()
	n, err := io.Copy(io.MultiWriter(sh, md), io.LimitReader(f, maxArchive+1))
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return ds.verify(p, n, hex.EncodeToString(sh.Sum(nil)), hex.EncodeToString(md.Sum(nil)))
}

// verify compares what was read of an archive with the published values.
func (ds *cifarDataset) verify(what string, n int64, sha, md string) error {
	switch {
	case n > maxArchive:
		return fmt.Errorf("%s: more than %d bytes", what, maxArchive)
	case ds.sha256 != "" && sha != ds.sha256:
		return fmt.Errorf("%s: SHA-256 %s, want %s", what, sha, ds.sha256)
	case ds.md5 != "" && md != ds.md5:
		return fmt.Errorf("%s: MD5 %s, want %s", what, md, ds.md5)
	case ds.size > 0 && n != ds.size:
		return fmt.Errorf("%s: %d bytes, want %d", what, n, ds.size)
	}
	return nil
}

// fetchArchive GETs the archive into dst through a temporary file beside
// it, renamed into place only once its checksums match.
func fetchArchive(ds *cifarDataset, dst string) error {
	if ds.sha256 == "" && ds.md5 == "" {
		return fmt.Errorf("%s: no checksum known, refusing to download", ds.url)
	}
	return download(ds.url, dst, maxArchive, func(n int64, sha, md string) error {
		if err := ds.verify(ds.url, n, sha, md); err != nil {
			return fmt.Errorf("%w (file discarded)", err)
		}
		return nil
	})
}

// extractCIFAR checks the archive at arch and extracts the dataset's
// folder into dir. Only the files the dataset is known to hold are
// written (record files, name files, readme), each a regular file at
// <folder>/<name>: nothing else in the archive, and no other path, can
// land on disk. The folder is assembled under a temporary name and renamed
// into place once every record file is there.
func extractCIFAR(ds *cifarDataset, arch, dir string) (err error) {
	if err := checkArchive(ds, arch); err != nil {
		return err
	}
	f, err := os.Open(arch)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", arch, err)
	}
	tmp, err := os.MkdirTemp(dir, "."+ds.folder+".*")
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	known := slices.Concat(ds.train, ds.test, []string{ds.names}, ds.extra)
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", arch, err)
		}
		folder, base := path.Split(path.Clean(strings.TrimPrefix(h.Name, "./")))
		if folder != ds.folder+"/" || !slices.Contains(known, base) || h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Size > MaxCIFARBytes {
			return fmt.Errorf("%s: %s is %d bytes, over the %d-byte limit", arch, h.Name, h.Size, MaxCIFARBytes)
		}
		if err := writeMember(filepath.Join(tmp, base), tr, h.Size); err != nil {
			return fmt.Errorf("%s: %s: %w", arch, h.Name, err)
		}
	}
	for _, f := range slices.Concat(ds.train, ds.test) {
		if !fileExists(filepath.Join(tmp, f)) {
			return fmt.Errorf("%s: no %s/%s in the archive", arch, ds.folder, f)
		}
	}
	dst := filepath.Join(dir, ds.folder)
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("cannot move the extracted files into place (if %s is there but incomplete, remove it and retry): %w", dst, err)
	}
	return nil
}

func writeMember(dst string, r io.Reader, size int64) error {
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(out, r, size); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// fileExists reports whether p is a regular file (through symlinks).
func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
