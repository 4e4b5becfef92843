// Package ownmodel lets a visitor upload a model of their own (a PyTorch
// checkpoint or an ONNX file), when the server is started with
// -allow-model-upload, and look at it in their session only: the file is
// read with every limit of card.Load (zoo and onnx check what a file
// declares before allocating), kept in memory under a fresh name that no
// page lists, and dropped when the session that opened it ends.
package ownmodel

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/metrics"
)

// Limits of an upload.
const (
	// MaxBytes is the largest file accepted (ResNet-18 is 45 MB).
	MaxBytes = 64 << 20
	// ReadWait bounds the time a file takes to arrive.
	ReadWait = 60 * time.Second
	// Unclaimed is how long an uploaded model waits for a session to
	// open it.
	Unclaimed = 10 * time.Minute
)

// Exts are the files accepted, by extension.
var Exts = []string{".pth", ".pt", ".safetensors", ".onnx"}

// Result answers an upload: the name a run opens the model by, and what
// the page shows of it.
type Result struct {
	Name    string   `json:"name"`
	File    string   `json:"file"`
	Model   string   `json:"model"`
	Input   []int    `json:"input"`
	Classes []string `json:"classes"`
	Dataset string   `json:"dataset"`
	Source  string   `json:"source"`
}

// Handler receives uploaded models, one at a time.
type Handler struct {
	// Metrics, if set, counts the models accepted and refused.
	Metrics *metrics.Metrics

	cat  *catalog.Catalog
	log  *slog.Logger
	busy chan struct{}
}

// New makes the handler; uploaded models go to cat as private entries.
func New(cat *catalog.Catalog, log *slog.Logger) *Handler {
	return &Handler{cat: cat, log: log, busy: make(chan struct{}, 1)}
}

// Routes mounts POST / (the file as the body, its name in ?file=).
func (h *Handler) Routes() chi.Router {
	r := chi.NewRouter()
	r.Post("/", h.upload)
	return r
}

func (h *Handler) upload(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > MaxBytes {
		h.fail(w, &Refusal{http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is %d MB; the limit is %d MB", r.ContentLength>>20, MaxBytes>>20)})
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(ReadWait))
	res, err := h.Take(r.URL.Query().Get("file"), r.Body)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// Refusal is a model turned down: the HTTP status POST answers with and
// the sentence meant for the visitor.
type Refusal struct {
	Status  int
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// Take reads one model file called file (its extension says how to read
// it) from body, at most MaxBytes, and keeps it as a private catalog entry
// named by its content ("own-" and 32 hex digits of its SHA-256), so that
// the same file has the same name on every replica. POST /own-model and
// the websocket's own-model message both bring files here. Every error is
// a *Refusal.
func (h *Handler) Take(file string, body io.Reader) (Result, error) {
	res, err := h.take(file, body)
	status := http.StatusOK
	if no, ok := err.(*Refusal); ok {
		status = no.Status
	}
	h.Metrics.Upload("model", status)
	return res, err
}

func (h *Handler) take(file string, body io.Reader) (Result, error) {
	file = filepath.Base(file)
	ext := strings.ToLower(filepath.Ext(file))
	if !slices.Contains(Exts, ext) {
		return Result{}, &Refusal{http.StatusUnsupportedMediaType, fmt.Sprintf("the file's name must end in one of %s (it says how to read the file)", strings.Join(Exts, ", "))}
	}
	select {
	case h.busy <- struct{}{}:
		defer func() { <-h.busy }()
	default:
		return Result{}, &Refusal{http.StatusServiceUnavailable, "the server is reading another visitor's model; try again in a few seconds"}
	}
	tmp, err := os.CreateTemp("", "convscope-own-*"+ext)
	if err != nil {
		return Result{}, &Refusal{http.StatusInternalServerError, "could not keep the file"}
	}
	defer os.Remove(tmp.Name())
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, sum), io.LimitReader(body, MaxBytes+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return Result{}, &Refusal{http.StatusRequestTimeout, fmt.Sprintf("the file took longer than %s to arrive", ReadWait)}
	case err != nil:
		return Result{}, &Refusal{http.StatusBadRequest, "could not read the upload: " + err.Error()}
	case n == 0:
		return Result{}, &Refusal{http.StatusBadRequest, "the upload is empty"}
	case n > MaxBytes:
		return Result{}, &Refusal{http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is over the limit of %d MB", MaxBytes>>20)}
	}
	m, c, err := card.Load("", tmp.Name(), 0)
	if err != nil {
		// The error names the temporary file: name the visitor's.
		return Result{}, &Refusal{http.StatusUnprocessableEntity, strings.ReplaceAll(err.Error(), tmp.Name(), file)}
	}
	c.Name = "own-" + hex.EncodeToString(sum.Sum(nil)[:16])
	c.Source = "uploaded " + file
	if err := h.cat.AddPrivate(c, m, Unclaimed); err != nil {
		return Result{}, &Refusal{http.StatusServiceUnavailable, err.Error()}
	}
	h.log.Info("own model stored", "name", c.Name, "file", file, "model", c.Model, "bytes", n)
	return Result{Name: c.Name, File: file, Model: c.Model, Input: c.Input, Classes: c.Classes, Dataset: c.Dataset, Source: c.Source}, nil
}

func (h *Handler) fail(w http.ResponseWriter, err error) {
	no, ok := err.(*Refusal)
	if !ok {
		no = &Refusal{http.StatusInternalServerError, err.Error()}
	}
	if no.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "10")
	}
	h.log.Info("own model refused", "status", no.Status, "reason", no.Message)
	writeJSON(w, no.Status, map[string]string{"error": no.Message})
}
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
