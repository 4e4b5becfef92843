package upload

import (
	"image"
	"slices"
	"sync"
	"time"
)

// Store keeps uploaded pictures in memory for a later run: at most capacity
// of them (the oldest goes first) and each for at most ttl. It holds the
// shrunk picture, never the upload's bytes. It is safe for concurrent use.
type Store struct {
	capacity int
	ttl      time.Duration
	now      func() time.Time

	mu    sync.Mutex
	items map[string]item
	order []string // ids, oldest first
}

type item struct {
	img   image.Image
	added time.Time
}

// NewStore makes a store of at most capacity pictures, each kept for ttl.
func NewStore(capacity int, ttl time.Duration) *Store {
	return &Store{capacity: max(1, capacity), ttl: ttl, now: time.Now, items: map[string]item{}}
}

// Keep stores img under id (Handler.Take names a picture by its content,
// ID), replacing what id held. The picture is kept as uploaded (never
// inverted): whether to invert it depends on the model a run uses.
func (s *Store) Keep(id string, img image.Image) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if _, held := s.items[id]; held {
		s.order = slices.DeleteFunc(s.order, func(o string) bool { return o == id })
	}
	for len(s.order) > 0 && (len(s.order) >= s.capacity || now.Sub(s.items[s.order[0]].added) > s.ttl) {
		delete(s.items, s.order[0])
		s.order = s.order[1:]
	}
	s.items[id] = item{img: img, added: now}
	s.order = append(s.order, id)
}

// Get returns the picture stored under id, as uploaded; ok is false for an
// unknown, evicted or expired id.
func (s *Store) Get(id string) (img image.Image, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, found := s.items[id]
	if !found || s.now().Sub(it.added) > s.ttl {
		return nil, false
	}
	return it.img, true
}

// Len is the number of pictures held (expired ones included until the next
// Put sweeps them).
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}
