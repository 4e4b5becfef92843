// Package upload is the room that accepts a user's picture (a file or a
// drawing from the page's canvas) and keeps it, shrunk, for the websocket
// session to run. It checks every limit before it decodes anything big.
package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // uploads may be JPEG
	_ "image/png"  // or PNG
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/convscope/convscope/card"
	"github.com/convscope/convscope/data"
)

// Limits on an upload.
const (
	// MaxBytes is the largest request body accepted.
	MaxBytes = 5 << 20
	// MaxSide is the largest width or height accepted, checked from the
	// image header before decoding.
	MaxSide = 4096
	// DefaultBudget is the memory New shares among the uploads being
	// read and decoded at once: each takes MaxBytes while its body is read,
	// then its decoding's cost (decodeCost: a 4096x4096 16-bit PNG needs
	// 192 MiB, a progressive CMYK JPEG of that size 192 MiB too), and waits
	// while the rest is spoken for.
	DefaultBudget = 320 << 20
	// DefaultReadWait is how long a body may take to arrive: a sender
	// trickling a byte every few seconds is cut off.
	DefaultReadWait = 15 * time.Second
	// DefaultQueueWait is how long an upload waits for its share of the
	// budget before it is told the server is busy.
	DefaultQueueWait = 10 * time.Second
)

// Saver keeps a shrunk picture and returns its id.
type Saver interface {
	Put(img image.Image) string
}

// Handler serves uploads.
type Handler struct {
	// ReadWait bounds the time a body takes to arrive (408 past it) and
	// QueueWait the time an upload waits for memory (503 past it); New
	// sets the defaults. Set them before serving.
	ReadWait, QueueWait time.Duration

	store  Saver
	log    *slog.Logger
	memory *budget
}

// New makes the upload handler saving into store, with DefaultBudget bytes
// for the uploads in flight.
func New(store Saver, log *slog.Logger) *Handler {
	return NewWithBudget(store, log, DefaultBudget)
}

// NewWithBudget is New with a memory budget of its own (at least MaxBytes).
func NewWithBudget(store Saver, log *slog.Logger, size int64) *Handler {
	return &Handler{store: store, log: log, memory: newBudget(max(size, MaxBytes)),
		ReadWait: DefaultReadWait, QueueWait: DefaultQueueWait}
}

// Routes mounts the room.
func (h *Handler) Routes() chi.Router {
	r := chi.NewRouter()
	// POST / takes a PNG or JPEG as the raw request body and answers
	// {"id","width","height","bright_border"}; errors are {"error"} with a 4xx.
	r.Post("/", h.post)
	return r
}

// Result is the JSON answer to a successful upload.
type Result struct {
	// ID names the stored picture in a websocket run request.
	ID string `json:"id"`
	// Width and Height are the uploaded picture's size in pixels.
	Width  int `json:"width"`
	Height int `json:"height"`
	// BrightBorder tells whether the picture's border is light
	// (data.BrightBorder: a dark object on white paper). The picture is
	// stored as it is; a run inverts it only for a model trained on light
	// objects on black (catalog.Entry.InvertsBrightPictures).
	BrightBorder bool `json:"bright_border"`
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	// The body's room first, so that many uploads at once wait instead of
	// holding their bodies; and a deadline, so that none waits forever.
	if !h.wait(w, r, MaxBytes) {
		return
	}
	body, err := h.read(w, r)
	h.memory.give(MaxBytes)
	h.decode(w, r, body, err)
}

// wait takes n bytes of the budget, or answers 503 busy.
func (h *Handler) wait(w http.ResponseWriter, r *http.Request, n int64) bool {
	ctx, cancel := context.WithTimeout(r.Context(), h.QueueWait)
	defer cancel()
	if h.memory.take(ctx, n) {
		return true
	}
	if r.Context().Err() == nil {
		w.Header().Set("Retry-After", "10")
		h.fail(w, r, http.StatusServiceUnavailable, "the server is busy with other uploads; try again in a few seconds")
	}
	return false
}

// read reads the body within MaxBytes and readWait.
func (h *Handler) read(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.ReadWait))
	return io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBytes))
}

// decode checks, decodes, shrinks and stores a body that was read.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, body []byte, err error) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		h.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is larger than %d MB", MaxBytes>>20))
		return
	case errors.Is(err, os.ErrDeadlineExceeded):
		h.fail(w, r, http.StatusRequestTimeout, fmt.Sprintf("the upload took longer than %s to arrive", h.ReadWait))
		return
	case err != nil:
		h.fail(w, r, http.StatusBadRequest, "could not read the upload: "+err.Error())
		return
	case len(body) == 0:
		h.fail(w, r, http.StatusBadRequest, "the upload is empty; send a PNG or JPEG image as the request body")
		return
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
	if err != nil || (format != "png" && format != "jpeg") {
		h.fail(w, r, http.StatusUnsupportedMediaType, "the upload is not a PNG or JPEG image")
		return
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxSide || cfg.Height > MaxSide {
		h.fail(w, r, http.StatusUnprocessableEntity, fmt.Sprintf("the image is %dx%d pixels; the limit is %dx%d", cfg.Width, cfg.Height, MaxSide, MaxSide))
		return
	}
	cost := decodeCost(cfg, format)
	if cost > h.memory.total {
		h.fail(w, r, http.StatusUnprocessableEntity, fmt.Sprintf("the %dx%d image would need %d MiB to decode; the limit is %d MiB",
			cfg.Width, cfg.Height, cost>>20, h.memory.total>>20))
		return
	}
	if !h.wait(w, r, cost) {
		return
	}
	defer h.memory.give(cost)
	img, _, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		h.fail(w, r, http.StatusUnprocessableEntity, "the "+format+" image is damaged: "+err.Error())
		return
	}
	// Kept as the CLI reads a picture (card.Picture): transparent pixels
	// are white paper, the copy shrunk.
	small := card.Picture(img)
	bright := data.BrightBorder(small)
	res := Result{ID: h.store.Put(small), Width: cfg.Width, Height: cfg.Height, BrightBorder: bright}
	h.log.Info("upload stored", "id", res.ID, "format", format, "width", cfg.Width, "height", cfg.Height, "bright_border", bright)
	writeJSON(w, http.StatusOK, res)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.log.Info("upload refused", "status", status, "reason", msg, "remote", r.RemoteAddr)
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
