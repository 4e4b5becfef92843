package upload

import (
	"fmt"
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
		ids = append(ids, fmt.Sprint("id", i))
		s.Keep(ids[i], img)
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
	s.Keep("again", imgs[0])
	if s.Len() != 1 {
		t.Fatalf("after expiry the store holds %d, want 1", s.Len())
	}
}

// Keeping an id again refreshes it: it is the newest, evicted last.
func TestStoreKeepAgainRefreshes(t *testing.T) {
	s := NewStore(2, time.Minute)
	a, b, c := image.NewGray(image.Rect(0, 0, 1, 1)), image.NewGray(image.Rect(0, 0, 2, 1)), image.NewGray(image.Rect(0, 0, 3, 1))
	s.Keep("a", a)
	s.Keep("b", b)
	s.Keep("a", a)
	s.Keep("c", c)
	if _, ok := s.Get("a"); !ok {
		t.Error("a was kept again after b, yet b outlived it")
	}
	if _, ok := s.Get("b"); ok {
		t.Error("b, the oldest, is still held")
	}
	if s.Len() != 2 {
		t.Errorf("holds %d, want 2", s.Len())
	}
}
