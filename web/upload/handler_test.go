package upload

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// saver keeps what the handler stores.
type saver struct {
	ids  []string
	imgs []image.Image
}

func (s *saver) Keep(id string, img image.Image) {
	s.ids = append(s.ids, id)
	s.imgs = append(s.imgs, img)
}

// post uploads img as a PNG and returns the answer's JSON fields and the
// picture the handler stored.
func post(t *testing.T, img image.Image) (map[string]any, image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	s := &saver{}
	h := New(s, slog.New(slog.NewTextHandler(io.Discard, nil))).Routes()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", &b))
	var res map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || rec.Code != http.StatusOK || len(s.imgs) != 1 {
		t.Fatalf("upload: %d %s, %d stored", rec.Code, rec.Body, len(s.imgs))
	}
	return res, s.imgs[0]
}

// grey is the red channel of img at (x, y), 0..255.
func grey(img image.Image, x, y int) uint32 {
	r, _, _, _ := img.At(x, y).RGBA()
	return r >> 8
}

// A black shoe drawn on a transparent background is black on white paper:
// stored as it is (not inverted), its border reported bright.
func TestTransparentBackgroundIsWhite(t *testing.T) {
	shoe := image.NewNRGBA(image.Rect(0, 0, 40, 20)) // all transparent
	for y := 5; y < 15; y++ {
		for x := 10; x < 30; x++ {
			shoe.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
		}
	}
	res, img := post(t, shoe)
	if res["bright_border"] != true || res["width"] != 40.0 || res["height"] != 20.0 {
		t.Fatalf("answer %v, want a bright border on a 40x20 picture", res)
	}
	if _, ok := res["inverted"]; ok {
		t.Fatalf("answer %v still says inverted", res)
	}
	if img.Bounds().Dx() != 40 || img.Bounds().Dy() != 20 {
		t.Fatalf("stored %v, want 40x20", img.Bounds())
	}
	if g := grey(img, 0, 0); g != 255 {
		t.Errorf("the transparent background is stored as %d, want 255 (white)", g)
	}
	if g := grey(img, 20, 10); g != 0 {
		t.Errorf("the shoe is stored as %d, want 0 (black)", g)
	}
}

// A drawing (white strokes on an opaque black canvas) has a dark border.
func TestDrawingIsNotBright(t *testing.T) {
	d := image.NewNRGBA(image.Rect(0, 0, 28, 28))
	for y := range 28 {
		for x := range 28 {
			d.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
		}
	}
	for i := 5; i < 23; i++ {
		d.SetNRGBA(i, i, color.NRGBA{255, 255, 255, 255})
	}
	res, img := post(t, d)
	if res["bright_border"] != false {
		t.Fatalf("answer %v, want no bright border", res)
	}
	if g := grey(img, 0, 0); g != 0 {
		t.Errorf("the canvas is stored as %d, want 0", g)
	}
	if g := grey(img, 10, 10); g != 255 {
		t.Errorf("the stroke is stored as %d, want 255", g)
	}
}
