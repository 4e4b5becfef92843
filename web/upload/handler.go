// Package upload is the room that accepts a user's picture (a file or a
// drawing from the page's canvas) and keeps it, shrunk, for the websocket
// session to run. It checks every limit before it decodes anything big.
package upload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/convscope/convscope/web/metrics"
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

// Saver keeps a shrunk picture under its id.
type Saver interface {
	Keep(id string, img image.Image)
}

// ID names an upload by its bytes: the first 32 hex digits of their
// SHA-256. The same file gets the same id on every replica, so a page can
// send it again to whichever server it reaches and keep its address.
func ID(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:16])
}

// Refusal is an upload turned down: the HTTP status POST answers with and
// the sentence meant for the visitor.
type Refusal struct {
	Status  int
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// Handler serves uploads.
type Handler struct {
	// ReadWait bounds the time a body takes to arrive (408 past it) and
	// QueueWait the time an upload waits for memory (503 past it); New
	// sets the defaults. Set them before serving.
	ReadWait, QueueWait time.Duration
	// Metrics, if set, counts the pictures accepted and refused.
	Metrics *metrics.Metrics

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
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.ReadWait))
	res, err := h.Take(r.Context(), http.MaxBytesReader(w, r.Body, MaxBytes))
	var no *Refusal
	switch {
	case errors.As(err, &no):
		if no.Status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "10")
		}
		h.fail(w, r, no.Status, no.Message)
	case err != nil: // the request's context ended: nobody is waiting
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

// Take reads one picture from body (at most MaxBytes), checks, decodes,
// shrinks and stores it under its ID, within the memory budget: POST
// /upload and the websocket's upload message both bring pictures here.
// A picture refused is a *Refusal; ctx's error means the caller left.
func (h *Handler) Take(ctx context.Context, body io.Reader) (Result, error) {
	// The body's room first, so that many uploads at once wait instead of
	// holding their bodies; and a deadline, so that none waits forever.
	if err := h.wait(ctx, MaxBytes); err != nil {
		return Result{}, err
	}
	b, err := io.ReadAll(io.LimitReader(body, MaxBytes+1))
	if err == nil && len(b) > MaxBytes {
		err = &http.MaxBytesError{Limit: MaxBytes}
	}
	h.memory.give(MaxBytes)
	return h.decode(ctx, b, err)
}

// wait takes n bytes of the budget, or says the server is busy.
func (h *Handler) wait(ctx context.Context, n int64) error {
	wait, cancel := context.WithTimeout(ctx, h.QueueWait)
	defer cancel()
	if h.memory.take(wait, n) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return h.refuse(http.StatusServiceUnavailable, "the server is busy with other uploads; try again in a few seconds")
}

// decode checks, decodes, shrinks and stores a body that was read.
func (h *Handler) decode(ctx context.Context, body []byte, err error) (Result, error) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return Result{}, h.refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is larger than %d MB", MaxBytes>>20))
	case errors.Is(err, os.ErrDeadlineExceeded):
		return Result{}, h.refuse(http.StatusRequestTimeout, fmt.Sprintf("the upload took longer than %s to arrive", h.ReadWait))
	case err != nil:
		return Result{}, h.refuse(http.StatusBadRequest, "could not read the upload: "+err.Error())
	case len(body) == 0:
		return Result{}, h.refuse(http.StatusBadRequest, "the upload is empty; send a PNG or JPEG image as the request body")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
	if err != nil || (format != "png" && format != "jpeg") {
		return Result{}, h.refuse(http.StatusUnsupportedMediaType, "the upload is not a PNG or JPEG image")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxSide || cfg.Height > MaxSide {
		return Result{}, h.refuse(http.StatusUnprocessableEntity, fmt.Sprintf("the image is %dx%d pixels; the limit is %dx%d", cfg.Width, cfg.Height, MaxSide, MaxSide))
	}
	cost := decodeCost(cfg, format)
	if cost > h.memory.total {
		return Result{}, h.refuse(http.StatusUnprocessableEntity, fmt.Sprintf("the %dx%d image would need %d MiB to decode; the limit is %d MiB",
			cfg.Width, cfg.Height, cost>>20, h.memory.total>>20))
	}
	if err := h.wait(ctx, cost); err != nil {
		return Result{}, err
	}
	defer h.memory.give(cost)
	img, _, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		return Result{}, h.refuse(http.StatusUnprocessableEntity, "the "+format+" image is damaged: "+err.Error())
	}
	// Kept as the CLI reads a picture (card.Picture): transparent pixels
	// are white paper, the copy shrunk.
	small := card.Picture(img)
	bright := data.BrightBorder(small)
	res := Result{ID: ID(body), Width: cfg.Width, Height: cfg.Height, BrightBorder: bright}
	h.store.Keep(res.ID, small)
	h.Metrics.Upload("picture", http.StatusOK)
	h.log.Info("upload stored", "id", res.ID, "format", format, "width", cfg.Width, "height", cfg.Height, "bright_border", bright)
	return res, nil
}

// refuse is a Refusal, logged.
func (h *Handler) refuse(status int, msg string) error {
	h.log.Info("upload refused", "status", status, "reason", msg)
	h.Metrics.Upload("picture", status)
	return &Refusal{Status: status, Message: msg}
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
