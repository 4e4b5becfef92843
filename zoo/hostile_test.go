package zoo

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convscope/convscope/nn"
)

// fakeTensor is one entry of a hand-written torch.save zip: a FloatStorage
// declaring size elements (holding have of them in its record) viewed with
// shape, strides and offset.
type fakeTensor struct {
	name         string
	size, have   int
	shape, strd  []int
	offset       int
	storageClass string
}

// pickleInt appends a pickle integer: BININT for 32 bits, else LONG1.
func pickleInt(b []byte, v int) []byte {
	if v >= math.MinInt32 && v <= math.MaxInt32 {
		b = append(b, 'J')
		return binary.LittleEndian.AppendUint32(b, uint32(int32(v)))
	}
	b = append(b, 0x8a, 8)
	return binary.LittleEndian.AppendUint64(b, uint64(v))
}

func pickleStr(b []byte, s string) []byte {
	b = append(b, 'X')
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func pickleInts(b []byte, v []int) []byte {
	b = append(b, '(')
	for _, x := range v {
		b = pickleInt(b, x)
	}
	return append(b, 't')
}

// fakePth writes what torch.save({name: tensor, ...}) writes: a zip with
// archive/data.pkl (protocol 2) and one stored record per storage.
func fakePth(t testing.TB, ts ...fakeTensor) []byte {
	t.Helper()
	p := []byte{0x80, 2, '}', '('}
	for i, ft := range ts {
		class := ft.storageClass
		if class == "" {
			class = "FloatStorage"
		}
		p = pickleStr(p, ft.name)
		p = append(p, "ctorch._utils\n_rebuild_tensor_v2\n("...)
		p = append(p, '(')
		p = pickleStr(p, "storage")
		p = append(p, "ctorch\n"+class+"\n"...)
		p = pickleStr(p, string(rune('0'+i)))
		p = pickleStr(p, "cpu")
		p = pickleInt(p, ft.size)
		p = append(p, 't', 'Q')
		p = pickleInt(p, ft.offset)
		p = pickleInts(p, ft.shape)
		p = pickleInts(p, ft.strd)
		p = append(p, 0x89, '}', 't', 'R')
	}
	p = append(p, 'u', '.')
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	add("archive/data.pkl", p)
	for i, ft := range ts {
		data := make([]byte, 4*ft.have)
		for j := 0; j < ft.have; j++ {
			binary.LittleEndian.PutUint32(data[4*j:], math.Float32bits(float32(j)))
		}
		add("archive/data/"+string(rune('0'+i)), data)
	}
	add("archive/version", []byte("3\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readFile runs ReadStateDict on b written as name, and fails the test if
// it takes long (a hang).
func readFile(t *testing.T, name string, b []byte) error {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadStateDict(p); done <- err }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still reading after 10 s", name)
	}
	return nil
}

// The fake writer itself must produce a file the reader accepts, or the
// hostile cases below prove nothing.
func TestFakePthReads(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ok.pth")
	os.WriteFile(p, fakePth(t, fakeTensor{name: "w", size: 6, have: 6, shape: []int{3, 2}, strd: []int{1, 3}}), 0o644)
	s, err := ReadStateDict(p)
	if err != nil {
		t.Fatal(err)
	}
	// storage 0..5 viewed as 3x2 with strides (1,3): rows (0,3), (1,4), (2,5)
	want := []float32{0, 3, 1, 4, 2, 5}
	w := s["w"]
	if w == nil || len(w.Data) != 6 {
		t.Fatalf("w = %v", w)
	}
	for i, v := range want {
		if w.Data[i] != v {
			t.Errorf("w.Data = %v, want %v", w.Data, want)
			break
		}
	}
}

func TestHostilePth(t *testing.T) {
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	tw.WriteHeader(&tar.Header{Name: "storages", Mode: 0o644, Size: 4})
	tw.Write([]byte("abcd"))
	tw.Close()
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*131 + i/7)
	}
	ft := func(size, have, offset int, shape, strd []int) fakeTensor {
		return fakeTensor{name: "w", size: size, have: have, offset: offset, shape: shape, strd: strd}
	}
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"garbage", garbage, "not a PyTorch checkpoint"},
		{"tar", tarBuf.Bytes(), "not a PyTorch checkpoint"},
		{"storage -1", fakePth(t, ft(-1, 4, 0, []int{4}, []int{1})), "declares -1 elements"},
		{"storage 2^62", fakePth(t, ft(1<<62, 4, 0, []int{4}, []int{1})), "declares 4611686018427387904 elements"},
		{"storage 2^40", fakePth(t, ft(1<<40, 4, 0, []int{4}, []int{1})), "declares 1099511627776 elements"},
		{"storage larger than record", fakePth(t, ft(100, 4, 0, []int{4}, []int{1})), "its record holds 16 bytes"},
		{"offset past end", fakePth(t, ft(4, 4, 3, []int{4}, []int{1})), "beyond the end"},
		{"offset negative", fakePth(t, ft(4, 4, -1, []int{4}, []int{1})), "offset out of range"},
		{"offset huge", fakePth(t, ft(4, 4, 1<<62, []int{4}, []int{1})), "offset out of range"},
		{"stride past end", fakePth(t, ft(4, 4, 0, []int{2, 2}, []int{3, 1})), "beyond the end"},
		{"stride negative", fakePth(t, ft(4, 4, 0, []int{2, 2}, []int{-2, 1})), "negative size or stride"},
		{"stride huge", fakePth(t, ft(4, 4, 0, []int{2, 2}, []int{1 << 62, 1})), "stride out of range"},
		{"size negative", fakePth(t, ft(4, 4, 0, []int{0, -5}, []int{1, 1})), "negative size"},
		{"rank mismatch", fakePth(t, ft(4, 4, 0, []int{2, 2}, []int{1})), "as many strides"},
		{"stride 0 30000x30000", fakePth(t, ft(1, 1, 0, []int{30000, 30000}, []int{0, 0})), "more elements than the storage holds"},
		{"size overflow", fakePth(t, ft(4, 4, 0, []int{1 << 32, 1 << 32}, []int{0, 0})), "more elements than the storage holds"},
		{"one storage, 100 tensors", sharedPth(t, 100, 1024), "tensors sharing one storage"},
	}
	for _, c := range cases {
		err := readFile(t, "hostile.pth", c.file)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "hostile.pth") {
			t.Errorf("%s: %v, want an error naming the file and %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error of several lines: %q", c.name, err)
		}
	}
}

// A zip whose data.pkl inflates past its limit (a zip bomb) is refused from
// its declared size, before it is inflated.
func TestHostilePthZipBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Deflate})
	w.Write(make([]byte, MaxPickleBytes+1024))
	zw.Close()
	err := readFile(t, "bomb.pth", buf.Bytes())
	if err == nil || !strings.Contains(err.Error(), "bomb.pth") || !strings.Contains(err.Error(), "declares") {
		t.Errorf("zip bomb: %v", err)
	}
}

// Checkpoint metadata that asks for a huge or impossible model is refused
// before the model is built.
func TestHostileCheckpointMetadata(t *testing.T) {
	m, err := Build("lenet5", nil, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ input, classes, want string }{
		{"1x28x28", "-1", `classes "-1"`},
		{"1x28x28", "0", `classes "0"`},
		{"1x28x28", "10000000", "10000000 classes"},
		{"1x28x28", "1000000000", "1000000000 classes"},
		{"1x28x28", "1e9", `classes "1e9"`},
		{"1x2000x2000", "10", "sides must be 8 to 1024"},
		{"1x28x4", "10", "sides must be 8 to 1024"},
		{"9x28x28", "10", "9 channels"},
		{"0x28x28", "10", "positive integers"},
	} {
		meta := map[string]string{MetaModel: "lenet5", MetaInput: c.input, MetaClasses: c.classes}
		b, err := nn.EncodeSafetensors(m.Net.State(), meta)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = DecodeCheckpoint(b, "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("input %s, classes %s: %v, want %q", c.input, c.classes, err, c.want)
		}
	}
}

func TestBuildLimits(t *testing.T) {
	for _, c := range []struct {
		input   []int
		classes int
	}{{[]int{1, 2000, 2000}, 10}, {[]int{5, 28, 28}, 10}, {[]int{1, 28, 28}, -1}, {[]int{1, 28, 28}, 100001}} {
		if _, err := Build("lenet5", c.input, c.classes, 0); err == nil {
			t.Errorf("lenet5 built for %v and %d classes", c.input, c.classes)
		}
	}
}
