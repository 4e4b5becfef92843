package data

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// quadWebP is a 2x2 lossless WebP (VP8L) made by libwebp's cwebp 1.2.4
// (-lossless -exact) from a PNG of red, green / blue, white: golang.org/x/image
// decodes WebP but cannot encode it.
const quadWebP = "524946462c000000574542505650384c1f0000002f0140000" +
	"01f201048de1f3a8df9171014fc1fddfc47640fe0060c11fd0f0100"

func solid(w, h int, c color.Color) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, c)
		}
	}
	return m
}

func encoded(t *testing.T, format string, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, img)
	case "jpg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100})
	case "gif":
		err = gif.Encode(&buf, img, &gif.Options{NumColors: 256, Quantizer: nil, Drawer: nil})
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rgbAt is picture i's (R,G,B) bytes at (x, y).
func rgbAt(s *ImageSet, i, x, y int) [3]uint8 {
	p, plane := s.Image(i), s.H*s.W
	return [3]uint8{p[y*s.W+x], p[plane+y*s.W+x], p[2*plane+y*s.W+x]}
}

func TestLoadFolderFormats(t *testing.T) {
	root := t.TempDir()
	webp, err := hex.DecodeString(quadWebP)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "a/red.png"), encoded(t, "png", solid(8, 8, color.NRGBA{255, 0, 0, 255})))
	writeFile(t, filepath.Join(root, "a/sub/green.jpg"), encoded(t, "jpg", solid(8, 8, color.NRGBA{0, 255, 0, 255})))
	writeFile(t, filepath.Join(root, "a/notes.txt"), []byte("not a picture"))
	pal := image.NewPaletted(image.Rect(0, 0, 6, 6), palette.Plan9)
	for i := range pal.Pix {
		pal.Pix[i] = uint8(pal.Palette.Index(color.RGBA{0, 0, 255, 255}))
	}
	writeFile(t, filepath.Join(root, "b/blue.gif"), encoded(t, "gif", pal))
	writeFile(t, filepath.Join(root, "b/quad.WEBP"), webp)
	writeFile(t, filepath.Join(root, ".ipynb_checkpoints/junk.png"), encoded(t, "png", solid(2, 2, color.White)))
	writeFile(t, filepath.Join(root, "stray.png"), encoded(t, "png", solid(2, 2, color.White)))
	// A class folder may be a link to a directory elsewhere.
	elsewhere := t.TempDir()
	writeFile(t, filepath.Join(elsewhere, "x.png"), encoded(t, "png", solid(3, 5, color.NRGBA{9, 9, 9, 255})))
	if err := os.Symlink(elsewhere, filepath.Join(root, "c")); err != nil {
		t.Fatal(err)
	}

	f, err := ScanFolder(root)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{"a/red.png", "a/sub/green.jpg", "b/blue.gif", "b/quad.WEBP", "c/x.png"}
	for i := range wantFiles {
		wantFiles[i] = filepath.Join(root, wantFiles[i])
	}
	if !slices.Equal(f.Classes, []string{"a", "b", "c"}) || !slices.Equal(f.Files, wantFiles) || !slices.Equal(f.Labels, []int{0, 0, 1, 1, 2}) {
		t.Fatalf("scan: classes %q files %q labels %v", f.Classes, f.Files, f.Labels)
	}
	s, err := f.Load(FolderOptions{Channels: 3, Height: 4, Width: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err != nil || s.N != 5 || !slices.Equal(s.Shape(), []int{3, 4, 4}) {
		t.Fatalf("set: %v, %d of %v", err, s.N, s.Shape())
	}
	near8 := func(got, want [3]uint8, tol int) bool {
		for k := range got {
			if d := int(got[k]) - int(want[k]); d < -tol || d > tol {
				return false
			}
		}
		return true
	}
	for y := range 4 {
		for x := range 4 {
			if got := rgbAt(s, 0, x, y); got != [3]uint8{255, 0, 0} {
				t.Fatalf("png (%d,%d) = %v", x, y, got)
			}
			if got := rgbAt(s, 1, x, y); !near8(got, [3]uint8{0, 255, 0}, 3) {
				t.Fatalf("jpeg (%d,%d) = %v", x, y, got)
			}
			if got := rgbAt(s, 2, x, y); got != [3]uint8{0, 0, 255} {
				t.Fatalf("gif (%d,%d) = %v", x, y, got)
			}
			// The 2x2 WebP enlarged: each of its pixels covers a 2x2 block.
			want := [][3]uint8{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}}[y/2*2+x/2]
			if got := rgbAt(s, 3, x, y); got != want {
				t.Fatalf("webp (%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
	// Grey: luma of the colours.
	g, err := f.Load(FolderOptions{Channels: 1, Height: 2, Width: 2, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Image(0)[0]; got != 76 { // round(0.299 * 255)
		t.Fatalf("grey red = %d, want 76", got)
	}
}

func TestLoadFolderSizes(t *testing.T) {
	root := t.TempDir()
	// 8 wide, 4 high: left half black, right half white.
	img := image.NewGray(image.Rect(0, 0, 8, 4))
	for y := range 4 {
		for x := 4; x < 8; x++ {
			img.Pix[y*8+x] = 255
		}
	}
	writeFile(t, filepath.Join(root, "k/p.png"), encoded(t, "png", img))
	// Cover + centre crop to 4x4: scaled to 8x4 (it already is), the
	// central 4 columns kept: 2 black, 2 white.
	s, err := LoadFolder(root, FolderOptions{Channels: 1, Height: 4, Width: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Image(0)[:4]; !bytes.Equal(got, []byte{0, 0, 255, 255}) {
		t.Fatalf("cover crop row %v", got)
	}
	// Not square: 2 high, 2 wide from 8x4 covers at scale 1/2 (4x2), keeps
	// columns 1 and 2.
	s, err = LoadFolder(root, FolderOptions{Channels: 1, Height: 2, Width: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Image(0); !bytes.Equal(got, []byte{0, 255, 0, 255}) {
		t.Fatalf("square crop %v", got)
	}
	s, err = LoadFolder(root, FolderOptions{Channels: 1, Height: 2, Width: 3})
	if err != nil {
		t.Fatal(err)
	}
	// 8x4 to cover 3x2: scale max(3/8, 2/4) = 1/2, 4x2; left offset
	// round(0.5) = 0 (half to even): columns 0..2 = black, black, white.
	if got := s.Image(0); !bytes.Equal(got, []byte{0, 0, 255, 0, 0, 255}) {
		t.Fatalf("rectangular crop %v", got)
	}
	// Letterbox into 4x4: the picture becomes 4x2, centred, margins in the
	// border's mean (half black, half white: 128).
	s, err = LoadFolder(root, FolderOptions{Channels: 1, Height: 4, Width: 4, Letterbox: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{128, 128, 128, 128, 0, 0, 255, 255, 0, 0, 255, 255, 128, 128, 128, 128}
	if got := s.Image(0); !bytes.Equal(got, want) {
		t.Fatalf("letterbox %v, want %v", got, want)
	}
	if _, err := LoadFolder(root, FolderOptions{Channels: 2, Height: 4, Width: 4}); err == nil {
		t.Fatal("2 channels accepted")
	}
}

func TestFolderEmptyClassIsAnError(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "cat/1.png"), encoded(t, "png", solid(2, 2, color.White)))
	writeFile(t, filepath.Join(root, "dog/readme.txt"), []byte("no pictures here"))
	if err := os.MkdirAll(filepath.Join(root, "emu"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFolder(root, FolderOptions{Channels: 3, Height: 2, Width: 2})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, "dog")) || !strings.Contains(err.Error(), filepath.Join(root, "emu")) {
		t.Fatalf("empty classes: %v", err)
	}
	if _, err := ScanFolder(filepath.Join(root, "cat")); err == nil || !strings.Contains(err.Error(), "no class folders") {
		t.Fatalf("no classes: %v", err)
	}
	if _, err := ScanFolder(filepath.Join(root, "missing")); err == nil {
		t.Fatal("missing root accepted")
	}
}

func TestFolderUndecodableFileIsNamed(t *testing.T) {
	good := encoded(t, "png", solid(4, 4, color.White))
	for name, b := range map[string][]byte{
		"garbage.png":   []byte("this is not a picture at all"),
		"truncated.png": good[:len(good)-20],
		"wrong.jpg":     []byte("GIF89a" + strings.Repeat("\x00", 20)),
	} {
		root := t.TempDir()
		for i := range 6 {
			writeFile(t, filepath.Join(root, "a", fmt.Sprintf("%d.png", i)), good)
		}
		bad := filepath.Join(root, "a", name)
		writeFile(t, bad, b)
		for _, workers := range []int{1, 3} {
			_, err := LoadFolder(root, FolderOptions{Channels: 3, Height: 4, Width: 4, Workers: workers})
			if err == nil || !strings.HasPrefix(err.Error(), bad+": ") {
				t.Fatalf("%s with %d workers: %v", name, workers, err)
			}
		}
	}
}

// greyFolder writes classes of the given sizes, picture k of the whole
// folder a 2x2 grey PNG of value k, so that a picture names itself.
func greyFolder(t *testing.T, sizes ...int) string {
	root := t.TempDir()
	k := 0
	for c, n := range sizes {
		for i := range n {
			img := image.NewGray(image.Rect(0, 0, 2, 2))
			for j := range img.Pix {
				img.Pix[j] = uint8(k)
			}
			writeFile(t, filepath.Join(root, fmt.Sprintf("class%d/%03d.png", c, i)), encoded(t, "png", img))
			k++
		}
	}
	return root
}

func TestFolderWorkersGiveTheSameSet(t *testing.T) {
	root := greyFolder(t, 7, 5, 9)
	one, err := LoadFolder(root, FolderOptions{Channels: 3, Height: 3, Width: 3, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	many, err := LoadFolder(root, FolderOptions{Channels: 3, Height: 3, Width: 3, Workers: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one.Pix, many.Pix) || !slices.Equal(one.Labels, many.Labels) {
		t.Fatal("1 and 5 workers load different sets")
	}
	for i := range one.N {
		if one.Image(i)[0] != uint8(i) {
			t.Fatalf("picture %d holds %d", i, one.Image(i)[0])
		}
	}
}

func TestSplitFolderDeterministicAndStratified(t *testing.T) {
	sizes := []int{10, 5, 1, 20}
	root := greyFolder(t, sizes...)
	opt := FolderOptions{Channels: 1, Height: 2, Width: 2}
	ids := func(s *ImageSet) []int {
		var out []int
		for i := range s.N {
			out = append(out, int(s.Image(i)[0]))
		}
		return out
	}
	tr, va, err := SplitFolder(root, opt, 0.2, 7)
	if err != nil {
		t.Fatal(err)
	}
	// round(0.2 n) per class: 2, 1, 0, 4.
	perClass := func(s *ImageSet) []int {
		n := make([]int, len(sizes))
		for _, l := range s.Labels {
			n[l]++
		}
		return n
	}
	if got := perClass(va); !slices.Equal(got, []int{2, 1, 0, 4}) {
		t.Fatalf("validation per class %v", got)
	}
	if got := perClass(tr); !slices.Equal(got, []int{8, 4, 1, 16}) {
		t.Fatalf("training per class %v", got)
	}
	all := append(ids(tr), ids(va)...)
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("train and val are not a partition: %v", all)
		}
	}
	if !slices.IsSorted(ids(tr)) || !slices.IsSorted(ids(va)) {
		t.Fatal("split does not keep the folder's order")
	}
	if !slices.Equal(tr.Classes, va.Classes) || len(tr.Classes) != 4 {
		t.Fatalf("classes %q and %q", tr.Classes, va.Classes)
	}
	// Same seed, same split; another seed, another one.
	tr2, va2, err := SplitFolder(root, opt, 0.2, 7)
	if err != nil || !slices.Equal(ids(tr2), ids(tr)) || !slices.Equal(ids(va2), ids(va)) {
		t.Fatalf("seed 7 twice: %v, %v vs %v", err, ids(va2), ids(va))
	}
	_, va3, err := SplitFolder(root, opt, 0.2, 8)
	if err != nil || slices.Equal(ids(va3), ids(va)) {
		t.Fatalf("seeds 7 and 8 give the same validation set %v (%v)", ids(va), err)
	}
	if _, _, err := SplitFolder(root, opt, 1.5, 7); err == nil {
		t.Fatal("fraction 1.5 accepted")
	}
}
