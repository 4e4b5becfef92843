package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// cifarPixel is the test pattern: byte j of record i's 3072 pixels.
func cifarPixel(i, j int) byte { return byte((i*7 + j*3) % 251) }

// cifarBytes is a CIFAR file of n records, record i with label i%10
// (CIFAR-10), or coarse i%20 and fine (3i)%100 (CIFAR-100), counting
// records from first (so batches of one split differ).
func cifarBytes(f CIFARFormat, first, n int) []byte {
	var b []byte
	for i := first; i < first+n; i++ {
		if f == CIFAR10 {
			b = append(b, byte(i%10))
		} else {
			b = append(b, byte(i%20), byte(3*i%100))
		}
		for j := range cifarPix {
			b = append(b, cifarPixel(i, j))
		}
	}
	return b
}

// putCIFAR10 writes a 30-record training split (5 batches of 6) and a
// 4-record test split into dir/cifar-10-batches-bin, with the names file.
func putCIFAR10(t *testing.T, dir string) string {
	t.Helper()
	folder := filepath.Join(dir, "cifar-10-batches-bin")
	for k := range 5 {
		writeFile(t, filepath.Join(folder, fmt.Sprintf("data_batch_%d.bin", k+1)), cifarBytes(CIFAR10, 6*k, 6))
	}
	writeFile(t, filepath.Join(folder, "test_batch.bin"), cifarBytes(CIFAR10, 100, 4))
	writeFile(t, filepath.Join(folder, "batches.meta.txt"), []byte(strings.Join(cifar10Classes, "\n")+"\n\n"))
	return folder
}

func checkRecords(t *testing.T, s *ImageSet, f CIFARFormat, first, n int) {
	t.Helper()
	if s.N != n || s.C != 3 || s.H != 32 || s.W != 32 || len(s.Labels) != n || len(s.Pix) != n*cifarPix {
		t.Fatalf("got %d pictures of %dx%dx%d (%d labels, %d bytes), want %d of 3x32x32", s.N, s.C, s.H, s.W, len(s.Labels), len(s.Pix), n)
	}
	for k := range n {
		i := first + k
		want := map[CIFARFormat]int{CIFAR10: i % 10, CIFAR100: 3 * i % 100, CIFAR100Coarse: i % 20}[f]
		if s.Labels[k] != want {
			t.Fatalf("label %d = %d, want %d", k, s.Labels[k], want)
		}
		for j, p := range s.Image(k) {
			if p != cifarPixel(i, j) {
				t.Fatalf("picture %d byte %d = %d, want %d", k, j, p, cifarPixel(i, j))
			}
		}
	}
}

func TestReadCIFAR10And100(t *testing.T) {
	for _, f := range []CIFARFormat{CIFAR10, CIFAR100, CIFAR100Coarse} {
		raw := cifarBytes(f, 0, 30)
		if len(raw) != 30*f.RecordSize() {
			t.Fatalf("%v: %d bytes", f, len(raw))
		}
		for _, b := range [][]byte{raw, gzipped(t, raw)} {
			s, err := ReadCIFAR(bytes.NewReader(b), f)
			if err != nil {
				t.Fatalf("%v: %v", f, err)
			}
			checkRecords(t, s, f, 0, 30)
		}
	}
}

func TestCIFARChannelOrder(t *testing.T) {
	// A pure red picture: the R plane (first 1024 bytes) 255, G and B 0.
	rec := append([]byte{3}, make([]byte, cifarPix)...)
	for j := range 1024 {
		rec[1+j] = 255
	}
	s, err := ReadCIFAR(bytes.NewReader(rec), CIFAR10)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, cifarPix)
	if l := s.Fill(0, x); l != 3 {
		t.Fatalf("label %d", l)
	}
	for j, v := range x {
		if want := float32(map[bool]int{true: 1}[j < 1024]); v != want {
			t.Fatalf("value %d (channel %d, y %d, x %d) = %v, want %v", j, j/1024, j%1024/32, j%32, v, want)
		}
	}
}

func TestLoadCIFARConcatenatesFiles(t *testing.T) {
	folder := putCIFAR10(t, t.TempDir())
	var paths []string
	for k := range 5 {
		paths = append(paths, filepath.Join(folder, fmt.Sprintf("data_batch_%d.bin", k+1)))
	}
	s, err := LoadCIFAR(CIFAR10, paths...)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, s, CIFAR10, 0, 30)
}

func TestCIFARTruncated(t *testing.T) {
	dir := t.TempDir()
	raw := cifarBytes(CIFAR10, 0, 30)
	cut := raw[:len(raw)-100] // record 29 lacks its last 100 bytes
	p := filepath.Join(dir, "data_batch_1.bin")
	writeFile(t, p, cut)
	_, err := LoadCIFAR(CIFAR10, p)
	var te *TruncatedError
	if !errors.As(err, &te) || te.Name != p || te.At != int64(len(cut)) || te.Want != int64(len(raw)) {
		t.Fatalf("got %v (%+v), want a truncation of %s at %d of %d", err, te, p, len(cut), len(raw))
	}
	for _, want := range []string{p, fmt.Sprint(len(cut)), "record 29", "not a whole number"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	// The same through a stream, raw and gzipped: the offset is where it
	// ended, counted in the uncompressed bytes.
	for _, b := range [][]byte{cut, gzipped(t, cut)} {
		_, err := ReadCIFAR(bytes.NewReader(b), CIFAR10)
		if !errors.As(err, &te) || te.At != int64(len(cut)) {
			t.Fatalf("stream: %v", err)
		}
	}
	// One record and one byte more: a whole number plus a cut record.
	_, err = ReadCIFAR(bytes.NewReader(append(raw[:3073:3073], 9)), CIFAR10)
	if !errors.As(err, &te) || te.At != 3074 || te.Want != 2*3073 {
		t.Fatalf("extra byte: %v", err)
	}
	// Empty.
	writeFile(t, p, nil)
	if _, err := LoadCIFAR(CIFAR10, p); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty file: %v", err)
	}
}

func TestCIFARBadLabelGivesOffset(t *testing.T) {
	raw := cifarBytes(CIFAR10, 0, 30)
	raw[5*3073] = 10 // record 5's label
	_, err := ReadCIFAR(bytes.NewReader(raw), CIFAR10)
	if err == nil || !strings.Contains(err.Error(), "at byte 15365 (record 5)") || !strings.Contains(err.Error(), "label 10") {
		t.Fatalf("bad label: %v", err)
	}
	raw = cifarBytes(CIFAR100, 0, 30)
	raw[7*3074+1] = 100 // record 7's fine label
	_, err = ReadCIFAR(bytes.NewReader(raw), CIFAR100Coarse)
	if err == nil || !strings.Contains(err.Error(), "at byte 21519 (record 7)") || !strings.Contains(err.Error(), "fine label 100") {
		t.Fatalf("bad fine label: %v", err)
	}
	// A CIFAR-100 file read as CIFAR-10: 3074-byte records misread as
	// 3073 show as a bad label or a cut record, never as pictures.
	if _, err := ReadCIFAR(bytes.NewReader(cifarBytes(CIFAR100, 0, 30)), CIFAR10); err == nil {
		t.Fatal("CIFAR-100 read as CIFAR-10 without error")
	}
}

func TestOpenCIFAR10FromFlagAndParent(t *testing.T) {
	root := sandbox(t)
	offlineClient(t)
	flag := filepath.Join(root, "flag")
	folder := putCIFAR10(t, flag)
	for _, dir := range []string{flag, folder} { // the parent and the folder
		got, err := FindCIFAR("cifar10", dir)
		if err != nil || got != folder {
			t.Fatalf("FindCIFAR(%s) = %q, %v; want %s", dir, got, err, folder)
		}
	}
	tr, err := OpenCIFAR("cifar10", flag, true)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, tr, CIFAR10, 0, 30)
	if !slices.Equal(tr.Classes, cifar10Classes) {
		t.Fatalf("classes %q", tr.Classes)
	}
	te, err := OpenImages("cifar10", flag, false)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, te, CIFAR10, 100, 4)

	// The names come from batches.meta.txt when it is there.
	names := []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"}
	writeFile(t, filepath.Join(folder, "batches.meta.txt"), []byte(strings.Join(names, "\n")+"\n\n\n"))
	if te, err = OpenCIFAR("cifar10", flag, false); err != nil || !slices.Equal(te.Classes, names) {
		t.Fatalf("names %q, %v", te.Classes, err)
	}
	writeFile(t, filepath.Join(folder, "batches.meta.txt"), []byte("a\nb\n"))
	if _, err = OpenCIFAR("cifar10", flag, false); err == nil || !strings.Contains(err.Error(), "batches.meta.txt: 2 class names, want 10") {
		t.Fatalf("short names file: %v", err)
	}
	// $CONVSCOPE_DATA/cifar10 is searched too.
	env := putCIFAR10(t, filepath.Join(root, "env/cifar10"))
	if got, err := FindCIFAR("cifar10", ""); err != nil || got != env {
		t.Fatalf("FindCIFAR from env = %q, %v", got, err)
	}
}

func TestOpenCIFAR100(t *testing.T) {
	root := sandbox(t)
	folder := filepath.Join(root, "home/.cache/convscope/cifar100/cifar-100-binary")
	writeFile(t, filepath.Join(folder, "train.bin"), cifarBytes(CIFAR100, 0, 30))
	writeFile(t, filepath.Join(folder, "test.bin"), gzipped(t, cifarBytes(CIFAR100, 50, 5)))
	if err := os.Rename(filepath.Join(folder, "test.bin"), filepath.Join(folder, "test.bin.gz")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(folder, "fine_label_names.txt"), []byte(strings.Join(cifar100Fine, "\n")+"\n"))
	tr, err := OpenCIFAR("cifar100", "", true)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, tr, CIFAR100, 0, 30)
	if len(tr.Classes) != 100 || tr.Classes[99] != "worm" {
		t.Fatalf("fine classes %d", len(tr.Classes))
	}
	co, err := OpenCIFAR("cifar100-coarse", "", false)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, co, CIFAR100Coarse, 50, 5)
	if len(co.Classes) != 20 || co.Classes[19] != "vehicles_2" {
		t.Fatalf("coarse classes %q", co.Classes)
	}
	if got := ClassNames("cifar10"); len(got) != 10 || got[0] != "airplane" || got[9] != "truck" {
		t.Fatalf("ClassNames(cifar10) = %q", got)
	}
	if got := ClassNames("cifar100"); len(got) != 100 || got[0] != "apple" {
		t.Fatalf("ClassNames(cifar100) = %q", got)
	}
}

func offlineClient(t *testing.T) {
	old := Client
	Client = &http.Client{Transport: offline{}}
	t.Cleanup(func() { Client = old })
}

func TestCIFARMissingBatchSaysWhere(t *testing.T) {
	root := sandbox(t)
	offlineClient(t)
	flag := filepath.Join(root, "flag")
	folder := putCIFAR10(t, flag)
	if err := os.Remove(filepath.Join(folder, "data_batch_3.bin")); err != nil {
		t.Fatal(err)
	}
	_, err := OpenCIFAR("cifar10", flag, true)
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Download == nil {
		t.Fatalf("got %v, want a *NotFoundError with the download error", err)
	}
	msg := err.Error()
	for _, want := range append(SearchDirs("cifar10", flag), "network unreachable (test)",
		"cifar-10-batches-bin/data_batch_3.bin", "cifar-10-batches-bin/test_batch.bin",
		"https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz") {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "home/.cache/convscope/cifar10")); !os.IsNotExist(err) {
		t.Errorf("a failed download left the cache directory behind (%v)", err)
	}
	t.Logf("offline message:\n%s", msg)
}

// cifarArchive is a cifar-10-binary.tar.gz as the authors lay it out,
// with 6 records per training batch and 4 test records, plus extra
// members that extraction must not write anywhere.
func cifarArchive(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(name string, b []byte, typ byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(b)), Mode: 0o644, Typeflag: typ}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	add("cifar-10-batches-bin/", nil, tar.TypeDir)
	add("cifar-10-batches-bin/batches.meta.txt", []byte(strings.Join(cifar10Classes, "\n")+"\n\n"), tar.TypeReg)
	for k := range 5 {
		add(fmt.Sprintf("cifar-10-batches-bin/data_batch_%d.bin", k+1), cifarBytes(CIFAR10, 6*k, 6), tar.TypeReg)
	}
	add("cifar-10-batches-bin/readme.html", []byte("<p>readme</p>"), tar.TypeReg)
	add("cifar-10-batches-bin/test_batch.bin", cifarBytes(CIFAR10, 100, 4), tar.TypeReg)
	add("../evil.bin", []byte("x"), tar.TypeReg)
	add("cifar-10-batches-bin/../../evil2.bin", []byte("x"), tar.TypeReg)
	add("cifar-10-batches-bin/unexpected.sh", []byte("x"), tar.TypeReg)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cifarServer registers "tiny-cifar10", CIFAR-10 as served by an httptest
// server from the archive b, whose checksums and size are those of good
// (the bytes served, unless the test serves others). It returns the
// request counter.
func cifarServer(t *testing.T, good, served []byte) *atomic.Int32 {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/kriz/cifar-10-binary.tar.gz" {
			http.NotFound(w, r)
			return
		}
		w.Write(served)
	}))
	t.Cleanup(srv.Close)
	ds := *cifarDatasets["cifar10"]
	sh, md := sha256.Sum256(good), md5.Sum(good)
	ds.name, ds.store, ds.url = "tiny-cifar10", "tiny-cifar10", srv.URL+"/kriz/cifar-10-binary.tar.gz"
	ds.sha256, ds.md5, ds.size = hex.EncodeToString(sh[:]), hex.EncodeToString(md[:]), int64(len(good))
	cifarDatasets[ds.name] = &ds
	old := Client
	Client = srv.Client()
	t.Cleanup(func() { delete(cifarDatasets, ds.name); Client = old })
	return &hits
}

func TestDownloadCIFARExtracts(t *testing.T) {
	arch := cifarArchive(t)
	hits := cifarServer(t, arch, arch)
	root := t.TempDir()
	dir := filepath.Join(root, "cache")
	if err := DownloadCIFAR("tiny-cifar10", dir); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, dir); got != "cifar-10-batches-bin" {
		t.Fatalf("dir holds %s (the archive should be gone)", got)
	}
	want := "batches.meta.txt data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin readme.html test_batch.bin"
	if got := entries(t, filepath.Join(dir, "cifar-10-batches-bin")); got != want {
		t.Fatalf("folder holds %s", got)
	}
	if got := entries(t, root); got != "cache" {
		t.Fatalf("extraction wrote outside its folder: %s", got)
	}
	s, err := LoadCIFAR(CIFAR10, filepath.Join(dir, "cifar-10-batches-bin", "test_batch.bin"))
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, s, CIFAR10, 100, 4)
	n := hits.Load()
	if err := DownloadCIFAR("tiny-cifar10", dir); err != nil || hits.Load() != n {
		t.Fatalf("second download: %v, %d more requests", err, hits.Load()-n)
	}
}

func TestDownloadCIFARBadChecksum(t *testing.T) {
	arch := cifarArchive(t)
	bad := slices.Clone(arch)
	bad[len(bad)/2] ^= 1
	cifarServer(t, arch, bad)
	dir := filepath.Join(t.TempDir(), "cache")
	err := DownloadCIFAR("tiny-cifar10", dir)
	if err == nil || !strings.Contains(err.Error(), "SHA-256") || !strings.Contains(err.Error(), "discarded") {
		t.Fatalf("tampered archive: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a failed download left %s behind (%v)", dir, err)
	}
}

func TestOpenCIFARDownloadsIntoCache(t *testing.T) {
	root := sandbox(t)
	arch := cifarArchive(t)
	cifarServer(t, arch, arch)
	s, err := OpenCIFAR("tiny-cifar10", "", true)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, s, CIFAR10, 0, 30)
	want := filepath.Join(root, "home/.cache/convscope/tiny-cifar10/cifar-10-batches-bin")
	if got, err := FindCIFAR("tiny-cifar10", ""); err != nil || got != want {
		t.Fatalf("after OpenCIFAR, FindCIFAR = %q, %v; want %s", got, err, want)
	}
}

func TestOpenCIFARExtractsAnArchivePutByHand(t *testing.T) {
	root := sandbox(t)
	arch := cifarArchive(t)
	hits := cifarServer(t, arch, arch)
	flag := filepath.Join(root, "flag")
	writeFile(t, filepath.Join(flag, "cifar-10-binary.tar.gz"), arch)
	s, err := OpenCIFAR("tiny-cifar10", flag, false)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, s, CIFAR10, 100, 4)
	if hits.Load() != 0 {
		t.Fatalf("%d requests; the archive was at hand", hits.Load())
	}
	// A corrupt archive at hand is refused, not extracted.
	sandbox(t)
	bad := slices.Clone(arch)
	bad[100] ^= 1
	writeFile(t, filepath.Join(flag, "cifar-10-binary.tar.gz"), bad)
	if _, err := OpenCIFAR("tiny-cifar10", flag, false); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("corrupt archive at hand: %v", err)
	}
}

func TestCIFARChecksumsWellFormed(t *testing.T) {
	for _, name := range CIFARDatasets() {
		ds := cifarDatasets[name]
		if len(ds.sha256) != 64 || len(ds.md5) != 32 || ds.size < 160e6 {
			t.Errorf("%s: sha256 %q md5 %q size %d", name, ds.sha256, ds.md5, ds.size)
		}
		if len(ds.classes) != ds.format.classes() {
			t.Errorf("%s: %d class names for %d classes", name, len(ds.classes), ds.format.classes())
		}
	}
	if got := strings.Join(ImageDatasets(), " "); got != "cifar10 cifar100 cifar100-coarse fashion-mnist mnist" {
		t.Errorf("ImageDatasets = %s", got)
	}
}
