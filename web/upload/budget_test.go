package upload

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestBudgetWaitsAndRefuses(t *testing.T) {
	b := newBudget(10)
	if !b.take(context.Background(), 6) || b.take(context.Background(), 11) {
		t.Fatal("took 6 of 10, or 11 of 10")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if b.take(ctx, 5) { // 4 are free: waits until the deadline
		t.Fatal("took 5 with 4 free")
	}
	got := make(chan bool)
	go func() { got <- b.take(context.Background(), 5) }()
	time.Sleep(20 * time.Millisecond)
	b.give(6)
	if !<-got {
		t.Fatal("the waiter did not get the bytes given back")
	}
}

// What decoding costs, by hand: a 4096x4096 16-bit RGBA PNG decodes to 8
// bytes a pixel plus OverWhite's 4-byte copy, 12 x 16 Mi = 192 MiB; a grey
// PNG to 1 byte a pixel; a colour JPEG keeps 4 more a pixel of
// coefficients: 12 bytes a pixel.
func TestDecodeCost(t *testing.T) {
	side := 4096
	for _, c := range []struct {
		model  color.Model
		format string
		want   int64
	}{
		{color.NRGBA64Model, "png", 192 << 20}, {color.GrayModel, "png", 16 << 20}, {color.CMYKModel, "jpeg", 192 << 20},
	} {
		if got := decodeCost(image.Config{ColorModel: c.model, Width: side, Height: side}, c.format); got != c.want {
			t.Errorf("%v %s: %d MiB, want %d", c.model, c.format, got>>20, c.want>>20)
		}
	}
}

// A sender that trickles its body is cut off with 408 after ReadWait; while
// it holds the only room, another upload is told the server is busy.
func TestSlowUploadsAreCutAndOthersToldBusy(t *testing.T) {
	h := NewWithBudget(&saver{}, slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBytes)
	h.ReadWait, h.QueueWait = 300*time.Millisecond, 100*time.Millisecond
	srv := httptest.NewServer(h.Routes())
	defer srv.Close()

	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Promise 1000 bytes, send 10.
	if _, err := conn.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")); err != nil {
		t.Fatal(err)
	}
	// Wait until the slow request holds the room (a fixed sleep lost the
	// race on a loaded machine).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		h.memory.mu.Lock()
		held := h.memory.free < h.memory.total
		h.memory.mu.Unlock()
		if held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow upload never took the room")
		}
	}
	var pic bytes.Buffer
	_ = png.Encode(&pic, image.NewGray(image.Rect(0, 0, 8, 8)))
	res, err := http.Post(srv.URL, "image/png", bytes.NewReader(pic.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "busy") || res.Header.Get("Retry-After") == "" {
		t.Fatalf("second upload while the room is held: %d %s", res.StatusCode, body)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	answer, _ := io.ReadAll(conn)
	if !strings.Contains(string(answer), "408") || !strings.Contains(string(answer), "longer than 300ms") {
		t.Fatalf("the slow upload got %q", answer)
	}
	// The room is back: an upload goes through.
	res, err = http.Post(srv.URL, "image/png", bytes.NewReader(pic.Bytes()))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("after the slow one: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
}

// A picture whose decoding would need more than the whole budget is
// refused before decoding, naming its cost.
func TestTooCostlyToDecode(t *testing.T) {
	h := NewWithBudget(&saver{}, slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBytes)
	var pic bytes.Buffer
	_ = png.Encode(&pic, image.NewNRGBA(image.Rect(0, 0, 2000, 2000))) // 2000x2000x8 bytes = 30 MiB
	rec := httptest.NewRecorder()
	h.Routes().ServeHTTP(rec, httptest.NewRequest("POST", "/", &pic))
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "would need 30 MiB to decode; the limit is 5 MiB") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
