package data

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sandbox points HOME, CONVSCOPE_DATA and the system directory into a
// fresh temporary tree and returns its root. Nothing is created there.
func sandbox(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv("CONVSCOPE_DATA", filepath.Join(root, "env"))
	old := systemDir
	systemDir = filepath.Join(root, "usr/share/datasets")
	t.Cleanup(func() { systemDir = old })
	return root
}

// putIDX writes the four files of dataset name into dir: small valid IDX
// files (n test and 2n training samples), gzipped when gz is set.
func putIDX(t *testing.T, name, dir string, n int, gz bool) {
	t.Helper()
	ds := idxDatasets[name]
	for i, f := range ds.files {
		count := n
		if i == trainImages || i == trainLabels {
			count = 2 * n
		}
		b := idxLabelsBytes(count)
		if i == trainImages || i == testImages {
			b = idxImagesBytes(count, 28, 28)
		}
		path := filepath.Join(dir, f.name)
		if gz {
			b, path = gzipped(t, b), path+".gz"
		}
		writeFile(t, path, b)
	}
}

func TestFindOrder(t *testing.T) {
	root := sandbox(t)
	flag := filepath.Join(root, "flag")
	dirs := []string{
		flag,
		filepath.Join(flag, "fashion-mnist"),
		filepath.Join(root, "env/fashion-mnist"),
		filepath.Join(root, "env"),
		filepath.Join(root, "home/.cache/convscope/fashion-mnist"),
		filepath.Join(root, "usr/share/datasets/fashion-mnist"),
	}
	if got := SearchDirs("fashion-mnist", flag); strings.Join(got, "\n") != strings.Join(dirs, "\n") {
		t.Fatalf("SearchDirs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(dirs, "\n"))
	}
	for i, d := range dirs {
		putIDX(t, "fashion-mnist", d, 1, i%2 == 0)
	}
	// Remove the winner each round: the next directory in order wins.
	for _, want := range dirs {
		got, err := Find("fashion-mnist", flag)
		if err != nil || got != want {
			t.Fatalf("Find = %q, %v; want %q", got, err, want)
		}
		for _, f := range idxDatasets["fashion-mnist"].files {
			os.Remove(filepath.Join(want, f.name))
			os.Remove(filepath.Join(want, f.name+".gz"))
		}
	}
	if _, err := Find("fashion-mnist", flag); err == nil {
		t.Fatal("found a dataset after removing every copy")
	}
}

func TestFindWithoutFlagOrEnv(t *testing.T) {
	root := sandbox(t)
	t.Setenv("CONVSCOPE_DATA", "")
	cache := filepath.Join(root, "home/.cache/convscope/mnist")
	putIDX(t, "mnist", cache, 1, true)
	if got, err := Find("mnist", ""); err != nil || got != cache {
		t.Fatalf("Find = %q, %v; want %q", got, err, cache)
	}
	if got := SearchDirs("mnist", ""); len(got) != 2 {
		t.Fatalf("SearchDirs without flag and CONVSCOPE_DATA = %q, want the cache and the system dir", got)
	}
}

func TestFindNeedsAllFourFiles(t *testing.T) {
	root := sandbox(t)
	env := filepath.Join(root, "env")
	putIDX(t, "fashion-mnist", env, 1, false)
	// Mixed raw and gzip is fine.
	gzipAll := filepath.Join(env, "t10k-labels-idx1-ubyte")
	b, _ := os.ReadFile(gzipAll)
	os.Remove(gzipAll)
	writeFile(t, gzipAll+".gz", gzipped(t, b))
	if got, err := Find("fashion-mnist", ""); err != nil || got != env {
		t.Fatalf("mixed raw and gzip: Find = %q, %v", got, err)
	}
	// Three of four files, or a directory in place of a file, is no dataset.
	os.Remove(gzipAll + ".gz")
	if err := os.Mkdir(gzipAll, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := Find("fashion-mnist", ""); err == nil {
		t.Fatalf("three files found as a dataset in %q", got)
	}
}

func TestFindNotFoundSaysWhere(t *testing.T) {
	sandbox(t)
	flag := filepath.Join(t.TempDir(), "mine")
	_, err := Find("fashion-mnist", flag)
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("got %v, want a *NotFoundError", err)
	}
	msg := err.Error()
	for _, want := range append(SearchDirs("fashion-mnist", flag),
		"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
		"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
		"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", "CONVSCOPE_DATA") {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if _, err := Find("cifar-11", ""); err == nil || !strings.Contains(err.Error(), "fashion-mnist, mnist") {
		t.Errorf("unknown name: %v", err)
	}
}

// TestFindDebianLayout checks Find against what Debian's
// dataset-fashion-mnist really installs: four .gz files directly in
// /usr/share/datasets/fashion-mnist.
func TestFindDebianLayout(t *testing.T) {
	const debian = "/usr/share/datasets/fashion-mnist"
	if !hasAll(idxDatasets["fashion-mnist"], debian) {
		t.Skipf("%s not installed (apt install dataset-fashion-mnist)", debian)
	}
	root := t.TempDir()
	t.Setenv("HOME", root)
	t.Setenv("CONVSCOPE_DATA", "")
	if got, err := Find("fashion-mnist", ""); err != nil || got != debian {
		t.Fatalf("Find = %q, %v; want %q", got, err, debian)
	}
}
