// Package session is the room behind the page's one websocket: it runs a
// picture through a model and streams every layer's maps as they are
// computed, then answers deconvnet projection requests from the same
// forward pass. The protocol is in protocol.go and docs/PROTOCOL.md.
//
// Each connection has exactly two goroutines: the reader (the handler's own
// goroutine), which reads client messages and does the work for each in
// turn, and the writer, which alone writes to the socket (frames queued by
// the reader, pings, the close on shutdown).
package session

import (
	"image"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/samples"
)

// Models opens catalog models.
type Models interface {
	Entries() []catalog.Entry
	Open(name string) (*catalog.Model, error)
}

// Uploads finds stored uploads by id; a picture is stored as uploaded.
type Uploads interface {
	Get(id string) (img image.Image, ok bool)
}

// Samples lists and decodes gallery pictures.
type Samples interface {
	List(gallery string, classes []string) []samples.Sample
	Open(gallery, file string) (image.Image, error)
}

// Handler upgrades requests to websocket sessions.
type Handler struct {
	models   Models
	uploads  Uploads
	samples  Samples
	log      *slog.Logger
	stop     <-chan struct{}
	upgrader websocket.Upgrader
}

// New makes the session handler. When stop is closed (server shutdown),
// every open session is closed with "going away"; nil never closes.
func New(models Models, uploads Uploads, samples Samples, log *slog.Logger, stop <-chan struct{}) *Handler {
	return &Handler{
		models: models, uploads: uploads, samples: samples, log: log, stop: stop,
		// The default CheckOrigin refuses cross-origin pages.
		upgrader: websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 64 << 10},
	}
}

// Routes mounts the room.
func (h *Handler) Routes() chi.Router {
	r := chi.NewRouter()
	// GET / upgrades to the page's websocket (protocol in docs/PROTOCOL.md).
	r.Get("/", h.serve)
	return r
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has already answered with a 4xx.
		h.log.Info("websocket upgrade refused", "err", err, "remote", r.RemoteAddr)
		return
	}
	s := newSession(conn, h, h.log.With("remote", r.RemoteAddr))
	s.log.Info("session opened")
	go s.writeLoop(h.stop)
	s.readLoop()
	close(s.send)
	<-s.done
	s.log.Info("session closed", "runs", s.runs)
}
