package ownmodel

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/convscope/convscope/web/catalog"
)

func post(t *testing.T, h http.Handler, file string, body []byte) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/?file="+file, bytes.NewReader(body)))
	var m map[string]any
	json.Unmarshal(rec.Body.Bytes(), &m)
	return rec.Code, m
}

// A checkpoint or an ONNX file becomes a private model: opened by the
// name the upload answers, listed nowhere, gone when released.
func TestUploadOwnModel(t *testing.T) {
	cat, err := catalog.Untrained("lenet5", 0)
	if err != nil {
		t.Fatal(err)
	}
	h := New(cat, slog.New(slog.NewTextHandler(io.Discard, nil))).Routes()
	pth, _ := os.ReadFile("../../zoo/testdata/lenet5.pth")
	code, res := post(t, h, "my-lenet.pth", pth)
	name, _ := res["name"].(string)
	if code != 200 || !strings.HasPrefix(name, "own-") || res["model"] != "lenet5" || res["source"] != "uploaded my-lenet.pth" {
		t.Fatalf("upload: %d %v", code, res)
	}
	if len(cat.Entries()) != 1 {
		t.Errorf("the catalog lists %d entries; a visitor's model is listed nowhere", len(cat.Entries()))
	}
	m, err := cat.Open(name)
	if err != nil || m.Net.Name != "lenet5" {
		t.Fatalf("open %s: %v", name, err)
	}
	cat.Release(m)
	if _, err := cat.Open(name); err == nil {
		t.Error("the model is still there after its session released it")
	}
	onnx, _ := os.ReadFile("../../onnx/testdata/chain.onnx")
	if code, res := post(t, h, "cnn.onnx", onnx); code != 200 || res["model"] != "onnx" {
		t.Errorf("an ONNX upload: %d %v", code, res)
	}

	junk := []byte("this is not a checkpoint")
	for _, c := range []struct {
		file string
		body []byte
		code int
		want string
	}{
		{"notes.txt", pth, http.StatusUnsupportedMediaType, "must end in one of"},
		{"empty.pth", nil, http.StatusBadRequest, "empty"},
		{"junk.pth", junk, http.StatusUnprocessableEntity, "junk.pth: not a PyTorch checkpoint"},
		{"junk.onnx", junk, http.StatusUnprocessableEntity, "junk.onnx: not an ONNX model"},
		{"half.pth", pth[:len(pth)/2], http.StatusUnprocessableEntity, "half.pth"},
	} {
		code, res := post(t, h, c.file, c.body)
		msg, _ := res["error"].(string)
		if code != c.code || !strings.Contains(msg, c.want) || strings.Contains(msg, os.TempDir()) {
			t.Errorf("%s: %d %q, want %d and %q", c.file, code, msg, c.code, c.want)
		}
	}
	// A declared size over the limit is refused before reading.
	req := httptest.NewRequest("POST", "/?file=big.pth", bytes.NewReader(pth))
	req.ContentLength = MaxBytes + 1
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 64 MB + 1 upload: %d", rec.Code)
	}
	// The same file again is the same model: named by its content, held
	// once, on any server.
	_, first := post(t, h, "cnn.onnx", onnx)
	if code, again := post(t, h, "renamed.onnx", onnx); code != 200 || again["name"] != first["name"] {
		t.Errorf("the same ONNX file twice: %d, named %v then %v", code, first["name"], again["name"])
	}
	if want := fmt.Sprintf("own-%x", sha256.Sum256(onnx))[:4+32]; first["name"] != want {
		t.Errorf("named %v, want %s (the file's SHA-256)", first["name"], want)
	}
	// At most MaxPrivate held at once (the ONNX one is held, unclaimed).
	for i := range catalog.MaxPrivate - 2 {
		e := catalog.Entry{Name: fmt.Sprint("other-", i), Model: "lenet5", Input: []int{1, 28, 28}}
		if err := cat.AddPrivate(e, m.Net, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if code, _ := post(t, h, "again.pth", pth); code != 200 {
		t.Errorf("the last room: %d", code)
	}
	if code, _ := post(t, h, "again.onnx", onnx); code != 200 {
		t.Errorf("a model held already, with the catalog full: %d, want 200", code)
	}
	// A new file past the limit: any distinct readable checkpoint.
	legacy, _ := os.ReadFile("../../zoo/testdata/lenet5_legacy.pth")
	if code, _ := post(t, h, "new.pth", legacy); code != http.StatusServiceUnavailable {
		t.Errorf("a new model past the limit: %d, want 503", code)
	}
}
