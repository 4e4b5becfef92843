package nn

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSafetensorsRoundTrip(t *testing.T) {
	in := map[string]*Tensor{"a.weight": FromData([]float32{1, -2, 3.5, 0}, 2, 2), "b": FromData([]float32{7}, 1)}
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := SaveSafetensors(path, in, map[string]string{"model": "m"}); err != nil {
		t.Fatal(err)
	}
	out, meta, err := LoadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta["model"] != "m" || len(out) != 2 || out["a.weight"].Data[2] != 3.5 || !SameShape(out["a.weight"].Shape, []int{2, 2}) {
		t.Errorf("round trip: %v %v", out, meta)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestSafetensorsRejectsHostileFiles(t *testing.T) {
	good, _ := EncodeSafetensors(map[string]*Tensor{"w": New(4)}, nil)
	header := func(h string) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(b, h...), make([]byte, 16)...)
	}
	huge := binary.LittleEndian.AppendUint64(nil, 1<<62)
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"empty":            {nil, "too short"},
		"huge header":      {huge, "header of"},
		"truncated":        {good[:len(good)-3], "offsets"},
		"bad json":         {header("{"), "header"},
		"u8":               {header(`{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`), "reads F32"},
		"f16 size":         {header(`{"w":{"dtype":"F16","shape":[3],"data_offsets":[0,4]}}`), "offsets"},
		"offsets past end": {header(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}`), "offsets"},
		"shape mismatch":   {header(`{"w":{"dtype":"F32","shape":[5],"data_offsets":[0,16]}}`), "offsets"},
		"negative dim":     {header(`{"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}`), "shape"},
		"shared bytes":     {header(`{"v":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`), "overlaps"},
		"header past end":  {append(binary.LittleEndian.AppendUint64(nil, 64), `{"w":{}}`...), "header of 64 bytes"},
		// 2^30 * 2^30 * 16 elements wrap a 64-bit count to 0, matching [0,0]
		"shape overflow": {header(`{"w":{"dtype":"F32","shape":[1073741824,1073741824,16],"data_offsets":[0,0]}}`), "shape"},
	} {
		_, _, err := DecodeSafetensors(tc.b)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, tc.want)
		}
	}
}

func TestSafetensorsConvertsOtherDtypes(t *testing.T) {
	// F16 1.5 = 0x3E00, BF16 -2 = 0xC000, I64 7, F64 0.25.
	h := `{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]},` +
		`"i":{"dtype":"I64","shape":[],"data_offsets":[8,16]},"d":{"dtype":"F64","shape":[1],"data_offsets":[16,24]}}`
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	b = append(b, h...)
	b = binary.LittleEndian.AppendUint16(b, 0x3E00)
	b = binary.LittleEndian.AppendUint16(b, 0xC000)
	b = append(b, 0, 0, 0, 0)
	b = binary.LittleEndian.AppendUint64(b, 7)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(0.25))
	out, _, err := DecodeSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]float32{"h": 1.5, "b": -2, "i": 7, "d": 0.25} {
		if got := out[k].Data[0]; got != want {
			t.Errorf("%s = %g, want %g", k, got, want)
		}
	}
}

// A write interrupted before its rename leaves path.tmpNNN behind; the next
// write removes such files once they are a minute old, and nothing else.
func TestSaveSafetensorsRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.safetensors")
	old := time.Now().Add(-2 * time.Minute)
	files := map[string]bool{ // name: kept after the write
		"ck.safetensors.tmp123456": false, // stale leftover
		"ck.safetensors.tmp777":    true,  // fresh: a write under way
		"ck.safetensors.tmpabc":    true,  // not CreateTemp's pattern
		"other.safetensors.tmp42":  true,  // another target's
		"ck.safetensors.tmp":       true,  // no digits
	}
	for name, keep := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
		if !keep || name != "ck.safetensors.tmp777" {
			os.Chtimes(p, old, old)
		}
	}
	if err := SaveSafetensors(path, map[string]*Tensor{"w": New(2)}, nil); err != nil {
		t.Fatal(err)
	}
	for name, keep := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if kept := err == nil; kept != keep {
			t.Errorf("%s kept %v, want %v", name, kept, keep)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 5 { // the target and the four kept
		for _, e := range entries {
			t.Log(e.Name())
		}
		t.Errorf("%d files in the folder, want 5", len(entries))
	}
}
