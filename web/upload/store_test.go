package upload

import (
	"image"
	"testing"
	"time"
)

func TestStoreBoundsAndExpiry(t *testing.T) {
	s := NewStore(3, time.Minute)
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	var ids []string
	var imgs []image.Image
	for i := range 5 {
		img := image.NewGray(image.Rect(0, 0, i+1, 1))
		imgs = append(imgs, img)
		ids = append(ids, s.Put(img))
	}
	if s.Len() != 3 {
		t.Fatalf("holds %d, want capacity 3", s.Len())
	}
	if _, ok := s.Get(ids[1]); ok {
		t.Fatal("an evicted picture is still there")
	}
	if img, ok := s.Get(ids[3]); !ok || img != imgs[3] {
		t.Fatalf("recent picture: ok=%v, the same picture: %v", ok, img == imgs[3])
	}
	if _, ok := s.Get("nope"); ok {
		t.Fatal("an unknown id was found")
	}
	now = now.Add(2 * time.Minute)
	if _, ok := s.Get(ids[4]); ok {
		t.Fatal("an expired picture is still there")
	}
	s.Put(imgs[0])
	if s.Len() != 1 {
		t.Fatalf("after expiry the store holds %d, want 1", s.Len())
	}
}
