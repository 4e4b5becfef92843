// Package session is the room behind the page's one websocket: it runs a
// picture through a model and streams every layer's maps as they are
// computed, then answers attribution requests (the deconvnet and its
// relatives, package deconv) from the same forward pass. The protocol is in protocol.go and docs/PROTOCOL.md.
//
// Each connection has two goroutines: the reader (the handler's own
// goroutine), which reads client messages and does the work for each in
// turn, and the writer, which alone writes to the socket (frames queued by
// the reader, pings, the close on shutdown); and while a long attribution
// runs, a third (a job), which a newer request stops.
package session

import (
	"context"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/gorilla/websocket"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/metrics"
	"github.com/convscope/convscope/web/ownmodel"
	"github.com/convscope/convscope/web/samples"
	"github.com/convscope/convscope/web/upload"
)

// Models opens catalog models and takes back the holds of sessions that no
// longer use them.
type Models interface {
	Entries() []catalog.Entry
	Open(name string) (*catalog.Model, error)
	Release(m *catalog.Model)
	// Snapshots lists an entry's weights after some of its training's
	// epochs (models of their own, not among Entries).
	Snapshots(name string) []catalog.Snapshot
}

// Uploads finds stored uploads by id; a picture is stored as uploaded.
type Uploads interface {
	Get(id string) (img image.Image, ok bool)
}

// Pictures takes a picture's file sent on the websocket: checked,
// decoded, shrunk and stored under its content's id (upload.Handler).
type Pictures interface {
	Take(ctx context.Context, body io.Reader) (upload.Result, error)
}

// ModelFiles takes a visitor's model file sent on the websocket, kept
// under a name made from its content (ownmodel.Handler).
type ModelFiles interface {
	Take(file string, body io.Reader) (ownmodel.Result, error)
}

// Samples lists and decodes gallery pictures.
type Samples interface {
	List(gallery string, classes []string) []samples.Sample
	Open(gallery, file string) (image.Image, error)
}

// Handler upgrades requests to websocket sessions.
type Handler struct {
	// MaxSessions caps the websocket sessions open at once: past it an
	// upgrade is refused with 503 and a message, and nothing else changes.
	// 0 (New's) is no cap. Set it before serving.
	MaxSessions int
	// IdleRelease is how long a session keeps its last forward pass (its
	// tensors and its hold on the model) without hearing from its page;
	// then it forgets them and a projection asks for a new run. New sets
	// DefaultIdleRelease; 0 keeps them until the connection ends.
	IdleRelease time.Duration
	// Budget, if not nil, bounds the memory of the passes sessions keep:
	// a run waits for its share (PassCost) up to QueueWait, told its place
	// in line, then hears the server is busy. Set it before serving.
	Budget *Budget
	// QueueWait is how long a run waits for the budget; New sets
	// DefaultQueueWait.
	QueueWait time.Duration
	// OwnModels says the server takes visitors' own models (POST
	// /own-model); hello tells the page.
	OwnModels bool
	// Pictures, if set, takes the pictures a page sends on its websocket
	// (the upload message); ModelFiles, if set, the models (own-model).
	// Sent on the connection that runs them, they reach the replica that
	// needs them behind any proxy. Set them before serving.
	Pictures   Pictures
	ModelFiles ModelFiles
	// Server is the replica's name, told to each page in hello.
	Server string
	// Metrics, if set, counts runs, projections and waits for the budget.
	Metrics *metrics.Metrics
	// Long holds the slots of the long attributions (integrated
	// gradients, SmoothGrad, occlusion: many passes each) that may run at
	// once, so that they leave the CPU to other visitors' runs; New gives
	// one per two CPUs, at least one. nil: no bound.
	Long *Budget

	models   Models
	uploads  Uploads
	samples  Samples
	log      *slog.Logger
	stop     <-chan struct{}
	upgrader websocket.Upgrader

	mu       sync.Mutex
	sessions int           // open sessions, counted from before the upgrade
	writers  int           // writers running: each ends after its close frame
	changed  chan struct{} // closed and replaced when writers drops
}

// DefaultIdleRelease is New's IdleRelease: a page quiet for two minutes
// gives back its forward pass (VGG-16's holds about 300 MB).
const DefaultIdleRelease = 2 * time.Minute

// DefaultQueueWait is New's QueueWait.
const DefaultQueueWait = 30 * time.Second

// New makes the session handler. When stop is closed (server shutdown),
// every open session is closed with "going away"; nil never closes.
func New(models Models, uploads Uploads, samples Samples, log *slog.Logger, stop <-chan struct{}) *Handler {
	return &Handler{
		models: models, uploads: uploads, samples: samples, log: log, stop: stop, IdleRelease: DefaultIdleRelease, QueueWait: DefaultQueueWait,
		Long: NewBudget(int64(max(1, runtime.NumCPU()/2))),
		// The default CheckOrigin refuses cross-origin pages.
		upgrader: websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 64 << 10},
	}
}

// Open is the number of websocket sessions open now.
func (h *Handler) Open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions
}

// Routes mounts the room.
func (h *Handler) Routes() chi.Router {
	r := chi.NewRouter()
	// GET / upgrades to the page's websocket (protocol in docs/PROTOCOL.md).
	r.Get("/", h.serve)
	return r
}

// Wait blocks until every session's writer has ended, that is, once stop
// is closed, until each open session has been sent its close frame (1001,
// going away) or its write has failed; a writer gives up after writeWait.
// It returns ctx's error if ctx ends first. The server's shutdown calls it
// after closing stop, so that the process does not exit before the close
// frames leave.
func (h *Handler) Wait(ctx context.Context) error {
	for {
		h.mu.Lock()
		n, changed := h.writers, h.changedLocked()
		h.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%d websocket sessions not closed: %w", n, ctx.Err())
		}
	}
}

// changedLocked is the channel closed when the number of writers next
// drops; h.mu is held.
func (h *Handler) changedLocked() chan struct{} {
	if h.changed == nil {
		h.changed = make(chan struct{})
	}
	return h.changed
}

// admit counts a new session unless MaxSessions are open already.
func (h *Handler) admit() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.MaxSessions > 0 && h.sessions >= h.MaxSessions {
		return false
	}
	h.sessions++
	return true
}

// refuse tells a websocket past MaxSessions that the server is full: it
// accepts the connection only to close it with 1013 (try again later) and
// the reason, which a page can show (a browser cannot read the body of a
// refused upgrade).
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request) {
	h.log.Warn("websocket refused: too many sessions", "limit", h.MaxSessions, "remote", r.RemoteAddr)
	conn, err := h.upgrader.Upgrade(w, r, http.Header{"Retry-After": {"30"}})
	if err != nil {
		return
	}
	defer conn.Close()
	reason := fmt.Sprintf("too many open sessions (the limit is %d); try again in a minute", h.MaxSessions)
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, reason), time.Now().Add(time.Second))
}

// writerStarted and writerEnded count the running writers for Wait.
func (h *Handler) writerStarted() {
	h.mu.Lock()
	h.writers++
	h.mu.Unlock()
}

func (h *Handler) writerEnded() {
	h.mu.Lock()
	h.writers--
	if h.changed != nil {
		close(h.changed)
		h.changed = nil
	}
	h.mu.Unlock()
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	if !h.admit() {
		h.refuse(w, r)
		return
	}
	defer func() {
		h.mu.Lock()
		h.sessions--
		h.mu.Unlock()
	}()
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has already answered with a 4xx.
		h.log.Info("websocket upgrade refused", "err", err, "remote", r.RemoteAddr)
		return
	}
	id := clip(middleware.GetReqID(r.Context()))
	s := newSession(conn, h, h.log.With("remote", r.RemoteAddr, "request_id", id))
	s.request = id
	s.log.Info("session opened")
	h.writerStarted()
	go func() {
		defer h.writerEnded()
		s.writeLoop(h.stop)
	}()
	s.readLoop()
	close(s.send)
	<-s.done
	s.log.Info("session closed", "runs", s.runs)
}
