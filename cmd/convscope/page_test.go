package main

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convscope/convscope/static"
	"github.com/convscope/convscope/web"
	"github.com/convscope/convscope/web/catalog"
	websamples "github.com/convscope/convscope/web/samples"
	"github.com/convscope/convscope/web/upload"
)

// `convscope infer` and the page give the same top-5 probabilities for the
// same file: both keep the picture as card.Picture does and prepare it with
// the model's card (here ImageNet's transform, for an untrained ResNet-18
// at seed 0, as the server's catalog builds it).
func TestInferMatchesThePage(t *testing.T) {
	const photo = "../../static/samples/photos/01-cat.png"
	out, err := run(t, "infer", "-model", "resnet18", "-image", photo, "-json")
	if err != nil {
		t.Fatal(err)
	}
	var cli struct {
		Top5 [][]struct {
			Class       int
			Name        string
			Probability float32
		}
	}
	if err := json.Unmarshal([]byte(out), &cli); err != nil || len(cli.Top5) != 1 || len(cli.Top5[0]) != 5 {
		t.Fatalf("infer printed %q: %v", out, err)
	}

	// The page: the same file uploaded, then run over the websocket.
	models, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	models.AddZoo()
	sampleFS, _ := fs.Sub(static.FS, "samples")
	srv := httptest.NewServer(web.NewRouter(web.Deps{Catalog: models, Gallery: websamples.New(sampleFS), Uploads: upload.NewStore(4, time.Hour),
		Static: static.FS, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	file, err := os.ReadFile(photo)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Post(srv.URL+"/upload", "image/png", bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var up struct{ ID string }
	json.NewDecoder(res.Body).Decode(&up)
	res.Body.Close()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.WriteJSON(map[string]string{"type": "run", "model": "resnet18", "upload": up.ID})
	var pred struct {
		Type    string
		Classes []string
		Probs   []float32
		Message string
	}
	for pred.Type != "prediction" {
		_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
		kind, b, err := conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if kind == websocket.TextMessage {
			json.Unmarshal(b, &pred)
		}
		if pred.Type == "error" {
			t.Fatalf("the page's run: %s", pred.Message)
		}
	}
	order := make([]int, len(pred.Probs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return pred.Probs[order[a]] > pred.Probs[order[b]] })
	for i, g := range cli.Top5[0] {
		k := order[i]
		if g.Class != k || g.Name != pred.Classes[k] || math.Abs(float64(g.Probability-pred.Probs[k])) > 1e-7 {
			t.Errorf("top %d: infer says class %d %q at %g, the page class %d %q at %g", i+1, g.Class, g.Name, g.Probability, k, pred.Classes[k], pred.Probs[k])
		}
	}
}
