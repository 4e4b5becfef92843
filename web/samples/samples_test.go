package samples

import (
	"bytes"
	"image"
	"image/png"
	"testing"
	"testing/fstest"
)

func TestGallery(t *testing.T) {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 28, 28))); err != nil {
		t.Fatal(err)
	}
	g := New(fstest.MapFS{
		"fashion-mnist/07-sneaker.png":     {Data: b.Bytes()},
		"fashion-mnist/03-t-shirt-top.png": {Data: b.Bytes()},
		"fashion-mnist/README.md":          {Data: []byte("# samples")},
		"fashion-mnist/broken.png":         {Data: []byte("not a png")},
		"secret.png":                       {Data: b.Bytes()},
	})
	list := g.List("fashion-mnist", []string{"T-shirt/top", "Sneaker"})
	if len(list) != 3 || list[0].File != "03-t-shirt-top.png" || list[0].Label != "T-shirt/top" || list[1].Label != "Sneaker" {
		t.Fatalf("list = %+v", list)
	}
	if list[1].URL() != "/samples/fashion-mnist/07-sneaker.png" {
		t.Fatalf("URL %q", list[1].URL())
	}
	if got := g.List("cifar10", nil); got != nil {
		t.Fatalf("a missing dataset lists %v", got)
	}
	if got := g.List("..", nil); got != nil {
		t.Fatalf("'..' lists %v", got)
	}
	img, err := g.Open("fashion-mnist", "07-sneaker.png")
	if err != nil || img.Bounds().Dx() != 28 {
		t.Fatalf("open: %v %v", img, err)
	}
	for _, bad := range [][2]string{
		{"fashion-mnist", "../secret.png"}, {"..", "secret.png"}, {"fashion-mnist", "README.md"},
		{"fashion-mnist", "missing.png"}, {"", "secret.png"}, {"fashion-mnist", "broken.png"},
	} {
		if _, err := g.Open(bad[0], bad[1]); err == nil {
			t.Errorf("Open(%q, %q) succeeded", bad[0], bad[1])
		}
	}
}

func TestLabel(t *testing.T) {
	for file, want := range map[string]string{
		"07-sneaker.png": "sneaker", "16-ankle-boot.png": "ankle boot", "bag.png": "bag", "3_dress.PNG": "dress", "2024.png": "2024",
	} {
		if got := Label(file); got != want {
			t.Errorf("Label(%q) = %q, want %q", file, got, want)
		}
	}
	if got := ClassLabel("16-ankle-boot.png", []string{"Ankle boot"}); got != "Ankle boot" {
		t.Errorf("ClassLabel = %q", got)
	}
}
