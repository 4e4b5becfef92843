package zoo

import (
	"archive/zip"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convscope/convscope/internal/bounded"
	"github.com/convscope/convscope/nn"
)

// sharedPth is a torch.save zip of n tensors named w0, w1, ..., each
// viewing the whole of one FloatStorage of size elements.
func sharedPth(t testing.TB, n, size int) []byte {
	p := []byte{0x80, 2, '}', '('}
	for i := range n {
		p = pickleStr(p, "w"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676%26)))
		p = append(p, "ctorch._utils\n_rebuild_tensor_v2\n(("...)
		p = pickleStr(p, "storage")
		p = append(p, "ctorch\nFloatStorage\n"...)
		p = pickleStr(p, "0")
		p = pickleStr(p, "cpu")
		p = pickleInt(p, size)
		p = append(p, 't', 'Q')
		p = pickleInt(p, 0)
		p = pickleInts(p, []int{size})
		p = pickleInts(p, []int{1})
		p = append(p, 0x89, '}', 't', 'R')
	}
	p = append(p, 'u', '.')
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, r := range []struct {
		name string
		data []byte
	}{{"archive/data.pkl", p}, {"archive/data/0", make([]byte, 4*size)}, {"archive/version", []byte("3\n")}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: r.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(r.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzReadPth writes arbitrary bytes as a .pth file and reads it with
// ReadStateDict: it must return an error naming the file (one line) or a
// state_dict, never panic, hang or allocate much more than the file's
// size; the valid seed must read as written.
func FuzzReadPth(f *testing.F) {
	valid := fakePth(f, fakeTensor{name: "w", size: 6, have: 6, shape: []int{3, 2}, strd: []int{1, 3}})
	f.Add(valid)
	// The hostile files of TestHostilePth and TestHostilePthZipBomb.
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*131 + i/7)
	}
	f.Add([]byte{})
	f.Add(garbage)
	f.Add(append([]byte("storages"), make([]byte, 504)...))
	f.Add(append(append([]byte{}, legacyMagic...), garbage[:64]...))
	ft := func(size, have, offset int, shape, strd []int) fakeTensor {
		return fakeTensor{name: "w", size: size, have: have, offset: offset, shape: shape, strd: strd}
	}
	for _, c := range []fakeTensor{
		ft(-1, 4, 0, []int{4}, []int{1}),
		ft(1<<62, 4, 0, []int{4}, []int{1}),
		ft(1<<40, 4, 0, []int{4}, []int{1}),
		ft(100, 4, 0, []int{4}, []int{1}),
		ft(4, 4, 3, []int{4}, []int{1}),
		ft(4, 4, -1, []int{4}, []int{1}),
		ft(4, 4, 1<<62, []int{4}, []int{1}),
		ft(4, 4, 0, []int{2, 2}, []int{3, 1}),
		ft(4, 4, 0, []int{2, 2}, []int{-2, 1}),
		ft(4, 4, 0, []int{2, 2}, []int{1 << 62, 1}),
		ft(4, 4, 0, []int{0, -5}, []int{1, 1}),
		ft(4, 4, 0, []int{2, 2}, []int{1}),
		ft(1, 1, 0, []int{30000, 30000}, []int{0, 0}),
		ft(4, 4, 0, []int{1 << 32, 1 << 32}, []int{0, 0}),
		{name: "h", size: 4, have: 4, shape: []int{4}, strd: []int{1}, storageClass: "HalfStorage"},
		{name: "b", size: 4, have: 4, shape: []int{4}, strd: []int{1}, storageClass: "ByteStorage"},
	} {
		f.Add(fakePth(f, c))
	}
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Deflate})
	w.Write(make([]byte, MaxPickleBytes+1024))
	zw.Close()
	f.Add(bomb.Bytes())
	// Many tensors viewing one storage: each a copy of all of it.
	f.Add(sharedPth(f, 2000, 16<<10))
	// Opcodes that declare more than they hold, and legacy files. (The
	// megabyte-long pickles stall Go's mutator: TestHostilePickles has them.)
	for _, pkl := range hostilePickles() {
		if len(pkl) < 64<<10 {
			f.Add(pthWithPickle(f, pkl))
		}
	}
	four := []byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64}
	f.Add(legacyPth(4, 4, four))
	f.Add(legacyPth(1<<40, 4, four))
	if b, err := os.ReadFile("testdata/layouts_legacy.pth"); err == nil {
		f.Add(b)
	}

	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := os.CreateTemp(dir, "fuzz*.pth")
		if err != nil {
			t.Fatal(err)
		}
		path := file.Name()
		defer os.Remove(path)
		_, err = file.Write(b)
		if cerr := file.Close(); err != nil || cerr != nil {
			t.Fatal(err, cerr)
		}
		var r struct {
			sd  map[string]*nn.Tensor
			err error
		}
		bounded.Run(t, fmt.Sprintf("ReadStateDict of %d bytes", len(b)), uint64(64<<20+64*len(b)), func() {
			r.sd, r.err = ReadStateDict(path)
		})
		if r.err != nil && bytes.Equal(b, valid) {
			t.Fatalf("the valid file: %v", r.err)
		}
		if r.err != nil {
			if msg := r.err.Error(); !strings.Contains(msg, filepath.Base(path)) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line naming the file", msg)
			}
			return
		}
		for name, x := range r.sd {
			n := 1
			for _, d := range x.Shape {
				n *= d
			}
			if n != len(x.Data) {
				t.Fatalf("%s: shape %v with %d elements", name, x.Shape, len(x.Data))
			}
		}
		if bytes.Equal(b, valid) {
			want := []float32{0, 3, 1, 4, 2, 5}
			x := r.sd["w"]
			if len(r.sd) != 1 || x == nil || len(x.Data) != 6 {
				t.Fatalf("the valid file reads as %v", r.sd)
			}
			for i, v := range want {
				if math.Float32bits(x.Data[i]) != math.Float32bits(v) {
					t.Fatalf("w = %v, want %v", x.Data, want)
				}
			}
		}
	})
}
