package session_test

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"net/http/httptest"
	"testing/fstest"

	"github.com/gorilla/websocket"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/samples"
	"github.com/convscope/convscope/web/session"
	"github.com/convscope/convscope/web/upload"
)

// BenchmarkLatency measures what a user waits for, over a real websocket:
// from sending a run request for an uploaded picture to receiving the
// prediction (which follows the last layer's maps), and from sending a
// projection request to receiving its picture, beside a bare forward pass. For the embedded LeNet-5
// and for VGG-16 at 224x224 (random weights; the cost is the same):
//
//	go test -run XXX -bench Latency ./web/session
func BenchmarkLatency(b *testing.B) {
	models, err := catalog.Embedded()
	if err != nil {
		b.Fatal(err)
	}
	models.AddZoo()
	store := upload.NewStore(8, time.Hour)
	pic := image.NewRGBA(image.Rect(0, 0, 300, 240))
	for y := 0; y < 240; y++ {
		for x := 0; x < 300; x++ {
			pic.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	id := "picture"
	store.Keep(id, pic)
	srv := httptest.NewServer(session.New(models, store, samples.New(fstest.MapFS{}), slog.New(slog.NewTextHandler(io.Discard, nil)), make(chan struct{})).Routes())
	defer srv.Close()
	for _, tc := range []struct{ model, layer string }{{"lenet5-fashion-mnist", "c3"}, {"vgg16", "features.28"}} {
		conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			b.Fatal(err)
		}
		until := func(typ string) map[string]any {
			for {
				_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
				kind, msg, err := conn.ReadMessage()
				if err != nil {
					b.Fatal(err)
				}
				if kind != websocket.TextMessage {
					continue
				}
				var m map[string]any
				if err := json.Unmarshal(msg, &m); err != nil {
					b.Fatal(err)
				}
				if m["type"] == "error" {
					b.Fatalf("%s", msg)
				}
				if m["type"] == typ {
					return m
				}
			}
		}
		send := func(s string) {
			if err := conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
				b.Fatal(err)
			}
		}
		until("hello")
		run := fmt.Sprintf(`{"type":"run","model":%q,"upload":%q}`, tc.model, id)
		send(run) // opens (builds) the model: not timed
		until("start")
		until("prediction")
		m, err := models.Open(tc.model)
		if err != nil {
			b.Fatal(err)
		}
		x := nn.New(append([]int{1}, m.Net.Input...)...)
		b.Run(tc.model+"/forward-only", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := m.Net.Net.Forward(x, &nn.Context{}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.model+"/upload-to-last-layer", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				send(run)
				until("prediction")
			}
		})
		b.Run(tc.model+"/projection-of-"+tc.layer, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				send(fmt.Sprintf(`{"type":"project","layer":%q,"channel":%d}`, tc.layer, i%4))
				until("projection")
				_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
				if _, _, err := conn.ReadMessage(); err != nil { // the picture
					b.Fatal(err)
				}
			}
		})
		conn.Close()
	}
}
