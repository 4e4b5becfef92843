package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// idxImagesBytes is an IDX image file of n h×w pictures whose pixel k
// (counting through the whole file) is k mod 251.
func idxImagesBytes(n, h, w int) []byte {
	b := binary.BigEndian.AppendUint32(nil, idxImagesMagic)
	for _, d := range []int{n, h, w} {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	for k := range n * h * w {
		b = append(b, byte(k%251))
	}
	return b
}

// idxLabelsBytes is an IDX label file of n labels, label i = i mod 10.
func idxLabelsBytes(n int) []byte {
	b := binary.BigEndian.AppendUint32(nil, idxLabelsMagic)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	for i := range n {
		b = append(b, byte(i%10))
	}
	return b
}

func gzipped(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadIDXRawAndGzip(t *testing.T) {
	raw, lraw := idxImagesBytes(7, 5, 3), idxLabelsBytes(7)
	for _, tc := range []struct {
		name         string
		images, labs []byte
	}{
		{"raw", raw, lraw},
		{"gzip", gzipped(t, raw), gzipped(t, lraw)},
	} {
		im, err := ReadIDXImages(bytes.NewReader(tc.images))
		if err != nil {
			t.Fatalf("%s images: %v", tc.name, err)
		}
		if im.N != 7 || im.H != 5 || im.W != 3 || !bytes.Equal(im.Pix, raw[16:]) {
			t.Fatalf("%s: got %dx%dx%d, pixels equal %v", tc.name, im.N, im.H, im.W, bytes.Equal(im.Pix, raw[16:]))
		}
		if got := im.Image(2); len(got) != 15 || got[0] != 30 {
			t.Errorf("%s: Image(2) = %v, want 15 bytes from 30", tc.name, got)
		}
		lb, err := ReadIDXLabels(bytes.NewReader(tc.labs))
		if err != nil || !bytes.Equal(lb, lraw[8:]) {
			t.Fatalf("%s labels: %v, %v", tc.name, lb, err)
		}
	}
}

func TestGzipToldByMagicNotName(t *testing.T) {
	dir := t.TempDir()
	ip, lp := filepath.Join(dir, "images.raw"), filepath.Join(dir, "labels.gz")
	writeFile(t, ip, gzipped(t, idxImagesBytes(4, 2, 2))) // gzip under a raw name
	writeFile(t, lp, idxLabelsBytes(4))                   // raw under a .gz name
	s, err := LoadIDX(ip, lp)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 4 || s.Images.N != 4 || s.Labels[3] != 3 {
		t.Fatalf("got %d samples, labels %v", s.Len(), s.Labels)
	}
}

func TestTruncated(t *testing.T) {
	full := idxImagesBytes(10, 28, 28) // 16 + 7840 bytes
	for _, tc := range []struct {
		name     string
		cut      int
		at, want int64
	}{
		{"empty", 0, 0, 16},
		{"in magic", 3, 3, 16},
		{"in header", 10, 10, 16},
		{"in data", 1234, 1234, 7856},
		{"last byte", 7855, 7855, 7856},
	} {
		path := filepath.Join(t.TempDir(), "t10k-images-idx3-ubyte")
		writeFile(t, path, full[:tc.cut])
		_, err := LoadIDX(path, path)
		var te *TruncatedError
		if !errors.As(err, &te) || te.At != tc.at || te.Want != tc.want {
			t.Fatalf("%s: got %v, want truncated at %d of %d", tc.name, err, tc.at, tc.want)
		}
		if !strings.HasPrefix(err.Error(), path+": truncated at byte ") {
			t.Errorf("%s: message %q does not name the file first", tc.name, err)
		}
	}
	// A cut gzip file: the offset counts decompressed bytes.
	gz := gzipped(t, full)
	path := filepath.Join(t.TempDir(), "t10k-images-idx3-ubyte.gz")
	writeFile(t, path, gz[:len(gz)/2])
	_, err := LoadIDX(path, path)
	var te *TruncatedError
	if !errors.As(err, &te) || te.Want != 7856 || te.At >= te.Want {
		t.Fatalf("cut gzip: got %v", err)
	}
	t.Logf("cut gzip: %v", err)
}

func TestGzipTrailerChecked(t *testing.T) {
	gz := gzipped(t, idxLabelsBytes(100))
	bad := append([]byte(nil), gz...)
	bad[len(bad)-8] ^= 0xff // CRC-32
	if _, err := ReadIDXLabels(bytes.NewReader(bad)); err == nil {
		t.Fatal("bad CRC accepted")
	}
	if _, err := ReadIDXLabels(bytes.NewReader(gz[:len(gz)-4])); err == nil {
		t.Fatal("cut trailer accepted")
	}
	if _, err := ReadIDXLabels(bytes.NewReader(gz[:5])); err == nil || !strings.Contains(err.Error(), "gzip header") {
		t.Fatalf("cut gzip header: %v", err)
	}
}

func TestBadMagic(t *testing.T) {
	_, err := ReadIDXImages(bytes.NewReader(idxLabelsBytes(3)))
	if err == nil || !strings.Contains(err.Error(), "bad magic number 0x00000801, want 0x00000803") {
		t.Fatalf("labels read as images: %v", err)
	}
	_, err = ReadIDXLabels(bytes.NewReader(idxImagesBytes(1, 2, 2)))
	if err == nil || !strings.Contains(err.Error(), "bad magic number 0x00000803") {
		t.Fatalf("images read as labels: %v", err)
	}
	png := []byte("\x89PNG\r\n\x1a\n-------")
	if _, err := ReadIDXImages(bytes.NewReader(png)); err == nil {
		t.Fatal("PNG read as IDX")
	}
}

func TestCountMismatch(t *testing.T) {
	dir := t.TempDir()
	ip, lp := filepath.Join(dir, "i"), filepath.Join(dir, "l")
	writeFile(t, ip, idxImagesBytes(5, 2, 2))
	writeFile(t, lp, idxLabelsBytes(4))
	_, err := LoadIDX(ip, lp)
	if err == nil || !strings.Contains(err.Error(), "5 images but") || !strings.Contains(err.Error(), "4 labels") {
		t.Fatalf("got %v", err)
	}
}

// allocated runs f and returns the bytes it allocated on the heap.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestHostileHeader(t *testing.T) {
	header := func(magic uint32, dims ...uint32) []byte {
		b := binary.BigEndian.AppendUint32(nil, magic)
		for _, d := range dims {
			b = binary.BigEndian.AppendUint32(b, d)
		}
		return b
	}
	const limit = 2 << 20 // the first 1 MiB buffer, bufio's 4 KiB, small change
	for _, tc := range []struct {
		name  string
		read  func([]byte) error
		bytes []byte
		msg   string
	}{
		{"2^96 pixels", imagesErr, header(idxImagesMagic, 1<<32-1, 1<<32-1, 1<<32-1), "limit"},
		{"one huge image", imagesErr, header(idxImagesMagic, 1, 1<<16, 1<<16), "limit"},
		{"2^32 labels", labelsErr, header(idxLabelsMagic, 1<<32-1), "limit"},
		{"zero width", imagesErr, header(idxImagesMagic, 5, 28, 0), "images of 28x0"},
		// Under the cap but absent: 200 MB announced, 100 bytes there.
		{"promised, absent", imagesErr, append(header(idxImagesMagic, 1<<18, 28, 28), make([]byte, 100)...), "truncated at byte 116 of 205520912"},
	} {
		var err error
		n := allocated(func() { err = tc.read(tc.bytes) })
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.msg)
		}
		if n > limit {
			t.Errorf("%s: allocated %d bytes, want under %d", tc.name, n, limit)
		}
	}
}

func imagesErr(b []byte) error { _, err := ReadIDXImages(bytes.NewReader(b)); return err }
func labelsErr(b []byte) error { _, err := ReadIDXLabels(bytes.NewReader(b)); return err }

func TestFloat(t *testing.T) {
	s := &Set{Images: Images{N: 2, H: 1, W: 3, Pix: []uint8{0, 0, 0, 0, 51, 255}}, Labels: []uint8{0, 1}}
	got := s.Float(1, 0, 1)
	want := []float32{0, 0.2, 1}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-7 {
			t.Fatalf("Float(1, 0, 1) = %v, want %v", got, want)
		}
	}
	got = s.Float(1, 0.5, 0.25)
	want = []float32{-2, -1.2, 2}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("Float(1, .5, .25) = %v, want %v", got, want)
		}
	}
}

func TestClassNames(t *testing.T) {
	f := ClassNames("fashion-mnist")
	if len(f) != 10 || f[0] != "T-shirt/top" || f[9] != "Ankle boot" {
		t.Fatalf("fashion-mnist classes %q", f)
	}
	if m := ClassNames("mnist"); len(m) != 10 || m[0] != "0" || m[9] != "9" {
		t.Fatalf("mnist classes %q", m)
	}
	if in := ClassNames("imagenet"); len(in) != 1000 || in[0] != "tench" || in[999] != "toilet tissue" {
		t.Fatalf("imagenet: %d classes, first %q", len(in), in[0])
	}
	if ClassNames("cifar-11") != nil {
		t.Fatal("unknown dataset has class names")
	}
	f[0] = "changed"
	if ClassNames("fashion-mnist")[0] != "T-shirt/top" {
		t.Fatal("ClassNames shares its slice")
	}
}

func TestDarkBackground(t *testing.T) {
	for name, want := range map[string]bool{
		"fashion-mnist": true, "mnist": true,
		"imagenet": false, "cifar10": false, "cifar100": false, "": false, "Fashion-MNIST": false,
	} {
		if got := DarkBackground(name); got != want {
			t.Errorf("DarkBackground(%q) = %v, want %v", name, got, want)
		}
	}
}
