package upload

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/internal/bounded"
)

// pngOf encodes img as a PNG.
func pngOf(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withSize is a PNG whose IHDR claims w x h pixels (its CRC fixed), its
// data left as it was.
func withSize(p []byte, w, h uint32) []byte {
	p = append([]byte{}, p...)
	// 8-byte signature, then IHDR: length, "IHDR", width, height, ... CRC.
	binary.BigEndian.PutUint32(p[16:], w)
	binary.BigEndian.PutUint32(p[20:], h)
	binary.BigEndian.PutUint32(p[29:], crc32.ChecksumIEEE(p[12:29]))
	return p
}

// FuzzUpload posts arbitrary bodies to the upload handler (with the
// smallest budget): every answer is a 200 with a Result and a stored
// picture of at most card.KeepLong a side, or a 4xx/5xx with a JSON error;
// never a panic, a hang or an allocation much past the budget.
func FuzzUpload(f *testing.F) {
	grey := image.NewGray(image.Rect(0, 0, 40, 30))
	for i := range grey.Pix {
		grey.Pix[i] = uint8(i)
	}
	good := pngOf(f, grey)
	f.Add(good)
	var j bytes.Buffer
	photo := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for i := range photo.Pix {
		photo.Pix[i] = 230
	}
	photo.Set(5, 5, color.Black)
	if err := jpeg.Encode(&j, photo, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(j.Bytes())
	f.Add(pngOf(f, image.NewNRGBA(image.Rect(0, 0, 1, 1))))
	f.Add(pngOf(f, image.NewRGBA64(image.Rect(0, 0, 9, 7))))
	// The refused uploads of TestUploadLimits and TestTooCostlyToDecode.
	f.Add([]byte("hello, I am a text file\n"))
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	f.Add([]byte{})
	f.Add(good[:60])
	f.Add(withSize(good, 10000, 10000))
	f.Add(withSize(good, 4096, 4096))
	f.Add(withSize(good, 0, 5))
	f.Add(j.Bytes()[:len(j.Bytes())/2])

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, body []byte) {
		s := &saver{}
		h := NewWithBudget(s, log, MaxBytes)
		h.QueueWait = time.Second
		rec := httptest.NewRecorder()
		// The body, its decoding (within the budget), the shrunk copy.
		bounded.Run(t, fmt.Sprintf("upload of %d bytes", len(body)), uint64(64<<20+16*len(body)), func() {
			h.Routes().ServeHTTP(rec, httptest.NewRequest("POST", "/", bytes.NewReader(body)))
		})
		if bytes.Equal(body, good) && rec.Code != http.StatusOK {
			t.Fatalf("the 40x30 PNG: %d %s", rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("status %d with Content-Type %q", rec.Code, ct)
		}
		if rec.Code == http.StatusOK {
			var res Result
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || res.ID != fmt.Sprintf("%x", sha256.Sum256(body))[:32] || len(s.imgs) != 1 || s.ids[0] != res.ID ||
				res.Width < 1 || res.Height < 1 || res.Width > MaxSide || res.Height > MaxSide {
				t.Fatalf("200 %s (%v), %d stored", rec.Body, err, len(s.imgs))
			}
			if b := s.imgs[0].Bounds(); b.Dx() < 1 || b.Dy() < 1 || b.Dx() > card.KeepLong || b.Dy() > card.KeepLong {
				t.Fatalf("stored a %v picture", b)
			}
			if bytes.Equal(body, good) && (res.Width != 40 || res.Height != 30) {
				t.Fatalf("the 40x30 PNG answers %s", rec.Body)
			}
			return
		}
		var e struct{ Error string }
		if rec.Code < 400 || rec.Code > 599 || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == "" || strings.Contains(e.Error, "\n") {
			t.Fatalf("status %d, body %q: want a 4xx or 5xx with a one-line JSON error", rec.Code, rec.Body)
		}
		if len(s.imgs) != 0 {
			t.Fatalf("status %d, yet %d pictures stored", rec.Code, len(s.imgs))
		}
	})
}
