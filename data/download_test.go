package data

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// tinyServer registers a dataset "tiny" (3 test and 6 training samples)
// served by an httptest server, whose checksums are those of the served
// bytes unless tamper names a file to corrupt on the wire. It returns the
// request counter.
func tinyServer(t *testing.T, tamper string) *atomic.Int32 {
	t.Helper()
	files := map[string][]byte{
		"train-images-idx3-ubyte.gz": gzipped(t, idxImagesBytes(6, 28, 28)),
		"train-labels-idx1-ubyte.gz": gzipped(t, idxLabelsBytes(6)),
		"t10k-images-idx3-ubyte.gz":  gzipped(t, idxImagesBytes(3, 28, 28)),
		"t10k-labels-idx1-ubyte.gz":  gzipped(t, idxLabelsBytes(3)),
	}
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/tiny/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/"+tamper) {
			b = append([]byte(nil), b...)
			b[len(b)/2] ^= 1
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	ds := &idxDataset{name: "tiny", baseURL: srv.URL + "/tiny/", classes: ClassNames("mnist")}
	for i, f := range idxDatasets["mnist"].files {
		b := files[f.name+".gz"]
		sh, md := sha256.Sum256(b), md5.Sum(b)
		ds.files[i] = idxFile{f.name, hex.EncodeToString(sh[:]), hex.EncodeToString(md[:])}
	}
	idxDatasets["tiny"] = ds
	old := Client
	Client = srv.Client()
	t.Cleanup(func() { delete(idxDatasets, "tiny"); Client = old })
	return &hits
}

func TestDownloadGoodChecksum(t *testing.T) {
	hits := tinyServer(t, "")
	dir := filepath.Join(t.TempDir(), "tiny")
	if err := Download("tiny", dir); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, dir); got != "t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz" {
		t.Fatalf("dir holds %s", got)
	}
	// Verified files already there are not fetched again.
	n := hits.Load()
	if err := Download("tiny", dir); err != nil || hits.Load() != n {
		t.Fatalf("second download: %v, %d more requests", err, hits.Load()-n)
	}
}

func TestDownloadBadChecksum(t *testing.T) {
	tinyServer(t, "t10k-images-idx3-ubyte.gz")
	dir := filepath.Join(t.TempDir(), "tiny")
	err := Download("tiny", dir)
	if err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("tampered file: %v", err)
	}
	// The two files before it landed; the bad one and its temp file did not.
	if got := entries(t, dir); got != "train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz" {
		t.Fatalf("after a bad checksum, dir holds %s", got)
	}
}

func TestDownloadNotFoundStatus(t *testing.T) {
	tinyServer(t, "")
	idxDatasets["tiny"].baseURL += "missing/"
	err := Download("tiny", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("404: %v", err)
	}
}

func TestOpenDownloadsIntoCache(t *testing.T) {
	root := sandbox(t)
	tinyServer(t, "")
	s, err := Open("tiny", "", true)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 6 || s.Images.H != 28 || s.Classes[s.Labels[5]] != "5" {
		t.Fatalf("got %d samples of %dx%d", s.Len(), s.Images.H, s.Images.W)
	}
	if got, err := Find("tiny", ""); err != nil || got != filepath.Join(root, "home/.cache/convscope/tiny") {
		t.Fatalf("after Open, Find = %q, %v", got, err)
	}
}

type offline struct{}

func (offline) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("network unreachable (test)")
}

func TestOpenOfflineSaysWhereToPutFiles(t *testing.T) {
	sandbox(t)
	old := Client
	Client = &http.Client{Transport: offline{}}
	t.Cleanup(func() { Client = old })
	_, err := Open("fashion-mnist", "/nonexistent/flag", false)
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Download == nil {
		t.Fatalf("got %v, want a *NotFoundError with the download error", err)
	}
	msg := err.Error()
	for _, want := range append(SearchDirs("fashion-mnist", "/nonexistent/flag"),
		"network unreachable (test)", "t10k-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz") {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if _, err := os.Stat(nf.Searched[4]); !os.IsNotExist(err) {
		t.Errorf("a failed download left %s behind (%v)", nf.Searched[4], err)
	}
	t.Logf("offline message:\n%s", msg)
}

// entries lists dir's names, space-separated, hidden temp files included.
func entries(t *testing.T, dir string) string {
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}
