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
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	var ids []string
	for i := range 5 {
		ids = append(ids, s.Put(img, i%2 == 1))
	}
	if s.Len() != 3 {
		t.Fatalf("holds %d, want capacity 3", s.Len())
	}
	if _, _, ok := s.Get(ids[1]); ok {
		t.Fatal("an evicted picture is still there")
	}
	if _, inv, ok := s.Get(ids[3]); !ok || !inv {
		t.Fatalf("recent picture: ok=%v inverted=%v", ok, inv)
	}
	if _, _, ok := s.Get("nope"); ok {
		t.Fatal("an unknown id was found")
	}
	now = now.Add(2 * time.Minute)
	if _, _, ok := s.Get(ids[4]); ok {
		t.Fatal("an expired picture is still there")
	}
	s.Put(img, false)
	if s.Len() != 1 {
		t.Fatalf("after expiry the store holds %d, want 1", s.Len())
	}
}
