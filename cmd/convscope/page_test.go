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
	"path/filepath"
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

// inferTop5 runs convscope infer -json and returns its top five.
func inferTop5(t *testing.T, args ...string) []guessJSON {
	t.Helper()
	out, err := run(t, "infer", append(args, "-json")...)
	if err != nil {
		t.Fatal(err)
	}
	var cli struct{ Top5 [][]guessJSON }
	if err := json.Unmarshal([]byte(out), &cli); err != nil || len(cli.Top5) != 1 || len(cli.Top5[0]) != 5 {
		t.Fatalf("infer printed %q: %v", out, err)
	}
	return cli.Top5[0]
}

type guessJSON struct {
	Class       int
	Name        string
	Probability float32
}

// pagePrediction uploads photo to a server on models, as the page does, and
// runs it on model over the websocket: the prediction's classes and
// probabilities.
func pagePrediction(t *testing.T, models *catalog.Catalog, model, photo string) ([]string, []float32) {
	t.Helper()
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
	conn.WriteJSON(map[string]string{"type": "run", "model": model, "upload": up.ID})
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
	return pred.Classes, pred.Probs
}

// sameTop5 fails t unless the page's five most probable classes are
// infer's, with the same probabilities.
func sameTop5(t *testing.T, cli []guessJSON, classes []string, probs []float32) {
	t.Helper()
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return probs[order[a]] > probs[order[b]] })
	for i, g := range cli {
		k := order[i]
		if g.Class != k || g.Name != classes[k] || math.Abs(float64(g.Probability-probs[k])) > 1e-7 {
			t.Errorf("top %d: infer says class %d %q at %g, the page class %d %q at %g", i+1, g.Class, g.Name, g.Probability, k, classes[k], probs[k])
		}
	}
}

// `convscope infer` and the page give the same top-5 probabilities for the
// same file: both keep the picture as card.Picture does and prepare it with
// the model's card (here ImageNet's transform, for an untrained ResNet-18
// at seed 0, as the server's catalog builds it).
func TestInferMatchesThePage(t *testing.T) {
	const photo = "../../static/samples/photos/01-cat.png"
	cli := inferTop5(t, "-model", "resnet18", "-image", photo)
	models, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	models.AddZoo()
	classes, probs := pagePrediction(t, models, "resnet18", photo)
	sameTop5(t, cli, classes, probs)
}

// A torchvision ImageNet checkpoint, as -models gives it, classifies the
// bundled photographs in the page with the same top-5 as convscope infer
// (which finds its architecture from its tensors). The checkpoint is
// tools/parity/zoo.py's (git-ignored; CI writes it).
func TestTorchvisionCheckpointInThePage(t *testing.T) {
	src := "../../zoo/testdata/torchvision/resnet18.pth"
	b, err := os.ReadFile(src)
	if err != nil {
		t.Skipf("%s: %v (written by tools/parity/zoo.py)", src, err)
	}
	pth := filepath.Join(t.TempDir(), "resnet18-f37072fd.pth")
	os.WriteFile(pth, b, 0o644)
	models, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	models.AddZoo()
	if errs := models.AddFiles([]catalog.File{{Path: pth}}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if e := models.Entries()[0]; e.Name != "resnet18-f37072fd" || e.Model != "resnet18" || e.Dataset != "imagenet" || !e.Trained {
		t.Fatalf("the catalog's first entry %+v", e)
	}
	photos, _ := filepath.Glob("../../static/samples/photos/*.png")
	for _, photo := range photos {
		cli := inferTop5(t, "-weights", pth, "-image", photo)
		classes, probs := pagePrediction(t, models, "resnet18-f37072fd", photo)
		sameTop5(t, cli, classes, probs)
	}
}
