// Package upload is the room that accepts a user's picture (a file or a
// drawing from the page's canvas) and keeps it, shrunk, for the websocket
// session to run. It checks every limit before it decodes anything big.
package upload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // uploads may be JPEG
	_ "image/png"  // or PNG
	"io"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/convscope/convscope/data"
)

// Limits on an upload.
const (
	// MaxBytes is the largest request body accepted.
	MaxBytes = 5 << 20
	// MaxSide is the largest width or height accepted, checked from the
	// image header before decoding.
	MaxSide = 4096
	// KeepSide is the longest side of the copy kept in the store; models
	// read 28x28 or 32x32, so this leaves room for future ones.
	KeepSide = 128
	// decoders is how many uploads may be decoded at once (a 4096x4096
	// picture decodes to up to 64 MiB, twice that with transparency, which
	// data.OverWhite composites into a copy).
	decoders = 2
)

// Saver keeps a shrunk picture and returns its id.
type Saver interface {
	Put(img image.Image) string
}

// Handler serves uploads.
type Handler struct {
	store Saver
	log   *slog.Logger
	slots chan struct{}
}

// New makes the upload handler saving into store.
func New(store Saver, log *slog.Logger) *Handler {
	return &Handler{store: store, log: log, slots: make(chan struct{}, decoders)}
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
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		h.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is larger than %d MB", MaxBytes>>20))
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
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	case <-r.Context().Done():
		return
	}
	img, _, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		h.fail(w, r, http.StatusUnprocessableEntity, "the "+format+" image is damaged: "+err.Error())
		return
	}
	// Transparent pixels are white paper, not black: a shoe drawn on a
	// transparent background is a dark object on white.
	small := data.ShrinkImage(data.OverWhite(img), KeepSide)
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
