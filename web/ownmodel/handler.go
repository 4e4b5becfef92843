// Package ownmodel lets a visitor upload a model of their own (a PyTorch
// checkpoint or an ONNX file), when the server is started with
// -allow-model-upload, and look at it in their session only: the file is
// read with every limit of card.Load (zoo and onnx check what a file
// declares before allocating), kept in memory under a fresh name that no
// page lists, and dropped when the session that opened it ends.
package ownmodel

import (
	"crypto/rand"
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
	file := filepath.Base(r.URL.Query().Get("file"))
	ext := strings.ToLower(filepath.Ext(file))
	if !slices.Contains(Exts, ext) {
		h.fail(w, http.StatusUnsupportedMediaType, fmt.Sprintf("name the file with ?file=NAME and one of %s", strings.Join(Exts, ", ")))
		return
	}
	if r.ContentLength > MaxBytes {
		h.fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is %d MB; the limit is %d MB", r.ContentLength>>20, MaxBytes>>20))
		return
	}
	select {
	case h.busy <- struct{}{}:
		defer func() { <-h.busy }()
	default:
		w.Header().Set("Retry-After", "10")
		h.fail(w, http.StatusServiceUnavailable, "the server is reading another visitor's model; try again in a few seconds")
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(ReadWait))
	tmp, err := os.CreateTemp("", "convscope-own-*"+ext)
	if err != nil {
		h.fail(w, http.StatusInternalServerError, "could not keep the file")
		return
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, io.LimitReader(r.Body, MaxBytes+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		h.fail(w, http.StatusRequestTimeout, fmt.Sprintf("the file took longer than %s to arrive", ReadWait))
		return
	case err != nil:
		h.fail(w, http.StatusBadRequest, "could not read the upload: "+err.Error())
		return
	case n == 0:
		h.fail(w, http.StatusBadRequest, "the upload is empty")
		return
	case n > MaxBytes:
		h.fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is over the limit of %d MB", MaxBytes>>20))
		return
	}
	m, c, err := card.Load("", tmp.Name(), 0)
	if err != nil {
		// The error names the temporary file: name the visitor's.
		h.fail(w, http.StatusUnprocessableEntity, strings.ReplaceAll(err.Error(), tmp.Name(), file))
		return
	}
	id := make([]byte, 8)
	rand.Read(id)
	c.Name = "own-" + hex.EncodeToString(id)
	c.Source = "uploaded " + file
	if err := h.cat.AddPrivate(c, m, Unclaimed); err != nil {
		w.Header().Set("Retry-After", "60")
		h.fail(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	h.log.Info("own model stored", "name", c.Name, "file", file, "model", c.Model, "bytes", n)
	writeJSON(w, http.StatusOK, Result{Name: c.Name, File: file, Model: c.Model, Input: c.Input, Classes: c.Classes, Dataset: c.Dataset, Source: c.Source})
}

func (h *Handler) fail(w http.ResponseWriter, status int, msg string) {
	h.log.Info("own model refused", "status", status, "reason", msg)
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
