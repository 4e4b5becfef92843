// Package web is convscope's HTTP side: the chi router that mounts one room
// per feature (explore, summary, upload, session), the embedded static
// assets and the sample gallery. Rooms live in sub-packages, each with its
// handler, its templ view and the small interfaces it needs; no math is done
// here (it lives in nn, zoo, viz, deconv and data).
package web

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/explore"
	"github.com/convscope/convscope/web/layout"
	"github.com/convscope/convscope/web/results"
	"github.com/convscope/convscope/web/samples"
	"github.com/convscope/convscope/web/session"
	"github.com/convscope/convscope/web/summary"
	"github.com/convscope/convscope/web/upload"
)

// Deps is everything the router needs, built by hand in cmd/server.
type Deps struct {
	// Catalog holds the models; its first entry is the default.
	Catalog *catalog.Catalog
	// Gallery lists and decodes the sample pictures, served at /samples/.
	Gallery *samples.Gallery
	// Uploads keeps uploaded pictures for runs.
	Uploads *upload.Store
	// Static holds the browser assets (static.FS), served at /static/.
	Static fs.FS
	// Logger receives one line per request and the rooms' events.
	Logger *slog.Logger
	// Stop, when closed, ends every open websocket session ("going away");
	// cmd/server closes it when shutdown starts, then waits for the close
	// frames with Router.WaitSessions. Nil never closes.
	Stop <-chan struct{}
	// MaxSessions caps the websocket sessions open at once; past it /ws
	// answers 503 (session.Handler.MaxSessions). 0 is no cap.
	MaxSessions int
}

// Router is the whole web side as an http.Handler, with what the server's
// shutdown needs.
type Router struct {
	http.Handler
	sessions *session.Handler
}

// WaitSessions blocks until every websocket session has been sent its close
// frame once Deps.Stop is closed (session.Handler.Wait), or ctx ends.
func (rt *Router) WaitSessions(ctx context.Context) error { return rt.sessions.Wait(ctx) }

// csp allows nothing from elsewhere: the page works offline by design.
const csp = "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// NewRouter mounts every room and the static files.
func NewRouter(d Deps) *Router {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, logRequests(d.Logger), middleware.Recoverer, secureHeaders)
	// Any other page is the site's own 404 page, with its navigation; set
	// before the rooms are mounted, which inherit it.
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		layout.NotFound(w, r, "There is no page at "+r.URL.Path+".")
	})

	// GET / is the explorer page: inputs, live feature maps, projections.
	r.Mount("/", explore.New(d.Catalog, d.Gallery).Routes())
	// GET /model and /model/{name} are the layer tables (torchinfo style).
	r.Mount("/model", summary.New(d.Catalog).Routes())
	// GET /results is the table of trained models and their accuracy.
	r.Mount("/results", results.New(d.Catalog).Routes())
	// POST /upload stores a PNG or JPEG for a later run and returns its id.
	r.Mount("/upload", upload.New(d.Uploads, d.Logger).Routes())
	// GET /ws is the page's websocket: runs, layer maps, projections.
	sessions := session.New(d.Catalog, d.Uploads, d.Gallery, d.Logger, d.Stop)
	sessions.MaxSessions = d.MaxSessions
	r.Mount("/ws", sessions.Routes())
	// GET /static/* serves the embedded JS, CSS and icons.
	r.Handle("/static/*", http.StripPrefix("/static/", http.FileServerFS(d.Static)))
	// GET /samples/{dataset}/{file} serves the gallery's pictures.
	r.Handle("/samples/*", http.StripPrefix("/samples/", http.FileServerFS(d.Gallery.FS())))
	// GET /healthz answers "ok" while the server runs.
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return &Router{Handler: r, sessions: sessions}
}

// secureHeaders sets the content security policy and no-sniffing on every
// answer.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// logRequests logs one line per request with its status and duration.
func logRequests(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			start := time.Now()
			next.ServeHTTP(ww, r)
			log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", ww.Status()), slog.Int("bytes", ww.BytesWritten()),
				slog.Duration("took", time.Since(start)), slog.String("id", middleware.GetReqID(r.Context())))
		})
	}
}
