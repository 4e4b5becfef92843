package zoo

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/convscope/convscope/internal/bounded"
)

// The legacy twins are the same state_dicts as PyTorch < 1.6 saved them
// (tools/parity/gen.py): they must read exactly as the zip files do.
func TestReadLegacyPth(t *testing.T) {
	for _, name := range []string{"lenet5", "layouts"} {
		zipped, err := ReadStateDict("testdata/" + name + ".pth")
		if err != nil {
			t.Fatal(err)
		}
		legacy, err := ReadStateDict("testdata/" + name + "_legacy.pth")
		if err != nil {
			t.Fatal(err)
		}
		if len(legacy) != len(zipped) {
			t.Errorf("%s: %d tensors in the legacy file, %d in the zip", name, len(legacy), len(zipped))
		}
		for k, v := range zipped {
			l := legacy[k]
			if l == nil || !slices.Equal(l.Shape, v.Shape) || maxRelDiff(l.Data, v.Data) != 0 {
				t.Errorf("%s: %s differs: %v", name, k, l)
			}
		}
	}
	m, _ := Build("lenet5", nil, 10, 1)
	if err := LoadWeights(m, "testdata/lenet5_legacy.pth"); err != nil {
		t.Fatal(err)
	}
}

// pthWithPickle is a torch.save zip whose data.pkl is pkl.
func pthWithPickle(t testing.TB, pkl []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(pkl)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hostilePickles are data.pkl streams whose opcodes declare more than they
// hold or build far more than a state_dict needs.
func hostilePickles() map[string][]byte {
	u32 := func(op byte, n uint32) []byte { return binary.LittleEndian.AppendUint32([]byte{0x80, 2, op}, n) }
	u64 := func(op byte, n uint64) []byte { return binary.LittleEndian.AppendUint64([]byte{0x80, 4, op}, n) }
	return map[string][]byte{
		"binunicode 2^31":    u32('X', 1<<31-1),
		"binbytes 2^32-1":    u32('B', 1<<32-1),
		"binstring negative": u32('T', 1<<32-1),
		"long4 2^31":         u32(0x8b, 1<<31-1),
		"binbytes8 2^62":     u64(0x8e, 1<<62),
		"bytearray8 2^64-1":  u64(0x96, 1<<64-1),
		"frame 2^60":         u64(0x95, 1<<60),
		"unknown opcode":     {0x80, 2, 0xff, '.'},
		"no stop":            {0x80, 2, '}', '}', '}'},
		"million lists":      append(append([]byte{0x80, 2}, bytes.Repeat([]byte{']'}, 1<<20)...), '.'),
		"million dups":       append(append([]byte{0x80, 2, '}'}, bytes.Repeat([]byte{'2'}, 1<<20)...), '.'),
		"long of 1e5 digits": append(append([]byte("L"), bytes.Repeat([]byte{'9'}, 100000)...), "L\n."...),
		"endless line":       append([]byte("cmodule"), bytes.Repeat([]byte{'x'}, 1<<20)...),
	}
}

// Each hostile pickle is refused with a one-line error naming the file,
// within the memory its size allows, before gopickle allocates what it
// declares.
func TestHostilePickles(t *testing.T) {
	want := map[string]string{
		"binunicode 2^31": "overruns", "binbytes 2^32-1": "overruns", "binstring negative": "overruns",
		"long4 2^31": "overruns", "binbytes8 2^62": "overruns", "bytearray8 2^64-1": "overruns",
		"frame 2^60": "overruns", "unknown opcode": "unknown pickle opcode 0xff", "no stop": "truncated",
		"million lists": "opcodes", "million dups": "opcodes", "long of 1e5 digits": "longer than",
		"endless line": "longer than",
	}
	for name, pkl := range hostilePickles() {
		var err error
		bounded.Run(t, name, 32<<20+uint64(4*len(pkl)), func() {
			err = readFile(t, "hostile.pth", pthWithPickle(t, pkl))
		})
		if err == nil || !strings.Contains(err.Error(), want[name]) || !strings.Contains(err.Error(), "hostile.pth") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line naming the file and %q", name, err, want[name])
		}
	}
}

// The largest pickle the scanner lets through (MaxPickleOps opcodes, each
// building a dict) costs gopickle tens of MiB, not gigabytes.
func TestPickleOpsBoundMemory(t *testing.T) {
	pkl := append([]byte{0x80, 2, ']'}, bytes.Repeat([]byte{'}', 'a'}, MaxPickleOps/2-2)...)
	pkl = append(pkl, '.')
	var err error
	bounded.Run(t, "a list of MaxPickleOps/2 dicts", 128<<20, func() {
		err = readFile(t, "dicts.pth", pthWithPickle(t, pkl))
	})
	if err == nil || !strings.Contains(err.Error(), "state_dict") {
		t.Errorf("a list of dicts read as %v, want a refusal for not being a state_dict", err)
	}
}

// legacyPth is a PyTorch < 1.6 file with one float tensor "w" of count
// elements whose storage declares declared elements; data is what follows
// the storage's 8-byte count.
func legacyPth(declared, count int, data []byte) []byte {
	b := append(append([]byte{}, legacyMagic...), '.')
	b = append(b, 0x80, 2, 'M', 0xe9, 0x03, '.') // 1001
	b = append(b, 0x80, 2, '}', '.')             // system description
	p := []byte{0x80, 2, '}', '('}
	p = pickleStr(p, "w")
	p = append(p, "ctorch._utils\n_rebuild_tensor_v2\n(("...)
	p = pickleStr(p, "storage")
	p = append(p, "ctorch\nFloatStorage\n"...)
	p = pickleStr(p, "k0")
	p = pickleStr(p, "cpu")
	p = pickleInt(p, declared)
	p = append(p, 'N', 't', 'Q')
	p = pickleInt(p, 0)
	p = pickleInts(p, []int{count})
	p = pickleInts(p, []int{1})
	p = append(p, 0x89, '}', 't', 'R', 'u', '.')
	b = append(b, p...)
	b = append(b, 0x80, 2, ']')
	b = pickleStr(b, "k0")
	b = append(b, 'a', '.')
	b = binary.LittleEndian.AppendUint64(b, uint64(int64(count)))
	return append(b, data...)
}

func TestHostileLegacyPth(t *testing.T) {
	four := []byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64} // 1, 2, 3, 4
	p := t.TempDir() + "/ok.pth"
	os.WriteFile(p, legacyPth(4, 4, four), 0o644)
	sd, err := ReadStateDict(p)
	if err != nil || sd["w"] == nil || maxRelDiff(sd["w"].Data, []float32{1, 2, 3, 4}) != 0 {
		t.Fatalf("the hand-written legacy file: %v, %v", sd, err)
	}
	lenet, _ := os.ReadFile("testdata/lenet5_legacy.pth")
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"storage 2^40", legacyPth(1<<40, 4, four), "declares 1099511627776 elements"},
		{"storage -1", legacyPth(-1, 4, four), "declares -1 elements"},
		{"storage past the end", legacyPth(30, 4, four), "follow the pickle"},
		{"data cut short", legacyPth(4, 4, four[:10]), "truncated"},
		{"count differs", legacyPth(3, 4, four), "the pickle declared 3"},
		{"lenet5 cut in half", lenet[:len(lenet)/2], "hostile.pth"},
		{"lenet5 cut in the pickle", lenet[:300], "truncated"},
	}
	for _, c := range cases {
		var err error
		bounded.Run(t, c.name, 32<<20, func() { err = readFile(t, "hostile.pth", c.file) })
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "hostile.pth") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line naming the file and %q", c.name, err, c.want)
		}
	}
}
