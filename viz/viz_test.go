package viz

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/convscope/convscope/nn"
)

func TestQuantizeSharesOneScale(t *testing.T) {
	// Two channels: the second is the first plus 2, so with one shared
	// scale its bytes are all higher.
	x := nn.FromData([]float32{-1, 0, 1, 1, 2, 3}, 1, 2, 1, 3)
	m, err := Quantize(x)
	if err != nil {
		t.Fatal(err)
	}
	if m.C != 2 || m.H != 1 || m.W != 3 || m.Min != -1 || m.Max != 3 {
		t.Fatalf("maps %+v", m)
	}
	want := []uint8{0, 64, 128, 128, 191, 255} // round(255*(v+1)/4)
	if !bytes.Equal(m.Pixels, want) {
		t.Errorf("pixels %v, want %v", m.Pixels, want)
	}
	if v := m.Value(255); v != 3 {
		t.Errorf("Value(255) = %g", v)
	}
	vec, err := Quantize(nn.FromData([]float32{5, 5}, 1, 2))
	if err != nil || vec.C != 2 || vec.H != 1 || vec.Pixels[0] != 0 {
		t.Errorf("constant vector: %+v, %v", vec, err)
	}
	if _, err := Quantize(nn.New(2, 3, 4, 4)); err == nil {
		t.Error("a batch of two quantized as one sample")
	}
}

func TestSignedKeepsZeroGrey(t *testing.T) {
	img, peak, err := Signed(nn.FromData([]float32{-2, 0, 1, 2}, 1, 1, 2, 2))
	if err != nil || peak != 2 {
		t.Fatalf("peak %g, %v", peak, err)
	}
	for i, want := range []uint8{0, 128, 191, 255} {
		if got := img.RGBAAt(i%2, i/2).R; got != want {
			t.Errorf("pixel %d = %d, want %d", i, got, want)
		}
	}
}

func TestTileBoxAndPNG(t *testing.T) {
	m, _ := Quantize(nn.FromData([]float32{0, 1, 2, 3}, 1, 1, 2, 2))
	tile := m.Tile(0, &Gray, 3)
	if tile.Bounds().Dx() != 6 || tile.RGBAAt(5, 5).R != 255 || tile.RGBAAt(0, 0).R != 0 {
		t.Errorf("tile %v: corner values %v %v", tile.Bounds(), tile.RGBAAt(0, 0), tile.RGBAAt(5, 5))
	}
	red := color.RGBA{255, 0, 0, 255}
	DrawBox(tile, image.Rect(1, 1, 4, 4), red)
	if tile.RGBAAt(1, 1) != red || tile.RGBAAt(3, 2) != red || tile.RGBAAt(2, 2) == red {
		t.Error("box outline wrong")
	}
	b, err := PNG(Upscale(tile, 2))
	if err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(bytes.NewReader(b))
	if err != nil || back.Bounds().Dx() != 12 {
		t.Errorf("PNG round trip: %v, %v", back.Bounds(), err)
	}
	if Viridis[0] == Viridis[255] || Viridis[0].A != 255 {
		t.Error("viridis endpoints")
	}
}

// Shrinking 5x5 maps to at most 2 per side takes the maximum of 3x3
// blocks (the last block is cut by the edge).
func TestShrinkKeepsBlockMaxima(t *testing.T) {
	m := Maps{C: 1, H: 5, W: 5, Min: -1, Max: 1, Pixels: make([]uint8, 25)}
	m.Pixels[1*5+2] = 200 // block (0,0)
	m.Pixels[4*5+0] = 7   // block (1,0)
	m.Pixels[3*5+4] = 90  // block (1,1)
	got := m.Shrink(2)
	if got.H != 2 || got.W != 2 || got.Min != -1 || got.Max != 1 {
		t.Fatalf("shrunk to %dx%d [%g,%g]", got.H, got.W, got.Min, got.Max)
	}
	if want := []uint8{200, 0, 7, 90}; string(got.Pixels) != string(want) {
		t.Fatalf("pixels %v, want %v", got.Pixels, want)
	}
	if small := m.Shrink(5); small.H != 5 || &small.Pixels[0] != &m.Pixels[0] {
		t.Fatal("maps within the limit were copied or shrunk")
	}
}
