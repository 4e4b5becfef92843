// Package web is convscope's HTTP side: the chi router that mounts one room
// per feature (explore, summary, upload, session), the embedded static
// assets and the sample gallery. Rooms live in sub-packages, each with its
// handler, its templ view and the small interfaces it needs; no math is done
// here (it lives in nn, zoo, viz, deconv and data).
package web

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/classroom"
	"github.com/convscope/convscope/web/experiments"
	"github.com/convscope/convscope/web/explore"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/web/layout"
	"github.com/convscope/convscope/web/learn"
	"github.com/convscope/convscope/web/metrics"
	"github.com/convscope/convscope/web/ownmodel"
	"github.com/convscope/convscope/web/results"
	"github.com/convscope/convscope/web/samples"
	"github.com/convscope/convscope/web/session"
	"github.com/convscope/convscope/web/summary"
	"github.com/convscope/convscope/web/training"
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
	// PassMemory bounds the memory of the forward passes sessions keep, in
	// bytes (session.Budget); 0 is no bound.
	PassMemory int64
	// AllowedHosts are the host names (or addresses) the server answers
	// to, against DNS rebinding; a request for another Host is refused
	// with 421 (see checkHost). Empty, or an entry "*", allows all.
	AllowedHosts []string
	// AllowModelUpload lets visitors upload a model of their own
	// (POST /own-model, package ownmodel), kept for their session only.
	AllowModelUpload bool
	// DataDir is where the experiments look for datasets first (then
	// where data.Find looks); ScanCache is where their scans are kept
	// (default ~/.cache/convscope/topk).
	DataDir, ScanCache string
	// Training runs the live training page's runs; nil turns the page off.
	Training *training.Manager
	// Replica names this server among several behind a proxy: pages are
	// told it, and the training page says its runs live here.
	Replica string
	// Metrics, if set, is served at GET /metrics and counted by the rooms.
	Metrics *metrics.Metrics
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
const csp = "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; style-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// NewRouter mounts every room and the static files.
func NewRouter(d Deps) *Router {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, answerRequestID, logRequests(d.Logger), middleware.Recoverer, secureHeaders, sameOrigin, i18n.Middleware)
	if hosts := allowedHosts(d.AllowedHosts); hosts != nil {
		r.Use(checkHost(hosts))
	}
	// Any other page is the site's own 404 page, with its navigation; set
	// before the rooms are mounted, which inherit it.
	r.NotFound(notFound)

	// GET / is the explorer page: inputs, live feature maps, projections.
	r.Mount("/", explore.New(d.Catalog, d.Gallery).Routes())
	// GET /model and /model/{name} are the layer tables (torchinfo style).
	r.Mount("/model", summary.New(d.Catalog).Routes())
	// GET /results is the table of trained models and their accuracy.
	r.Mount("/results", results.New(d.Catalog).Routes())
	// POST /upload stores a PNG or JPEG for a later run and returns its id
	// (the page sends its pictures on the websocket instead).
	pictures := upload.New(d.Uploads, d.Logger)
	pictures.Metrics = d.Metrics
	r.Mount("/upload", pictures.Routes())
	// GET /ws is the page's websocket: runs, layer maps, projections, and
	// the pictures and models a visitor sends.
	sessions := session.New(d.Catalog, d.Uploads, d.Gallery, d.Logger, d.Stop)
	sessions.MaxSessions = d.MaxSessions
	sessions.Pictures = pictures
	sessions.Server = d.Replica
	sessions.Metrics = d.Metrics
	var models *ownmodel.Handler
	if d.AllowModelUpload {
		models = ownmodel.New(d.Catalog, d.Logger)
		models.Metrics = d.Metrics
		sessions.OwnModels, sessions.ModelFiles = true, models
	}
	if d.PassMemory > 0 {
		sessions.Budget = session.NewBudget(d.PassMemory)
	}
	r.Mount("/ws", sessions.Routes())
	if d.AllowModelUpload {
		// POST /own-model?file=NAME takes a visitor's checkpoint or ONNX
		// file for their session.
		r.Mount("/own-model", models.Routes())
	}
	// GET /experiments/... are Zeiler & Fergus' experiments.
	scanCache := d.ScanCache
	if scanCache == "" {
		scanCache, _ = data.CacheDir("topk")
	}
	r.Mount("/experiments", experiments.New(d.Catalog, d.Gallery, d.DataDir, scanCache).Routes())
	// GET /train is the live training page, and its runs.
	if d.Training != nil {
		trainer := training.New(d.Training, d.DataDir, d.Stop)
		trainer.Replica = d.Replica
		r.Mount("/train", trainer.Routes())
	} else {
		r.Get("/train", func(w http.ResponseWriter, r *http.Request) {
			layout.NotFound(w, r, "Training is off on this server (it was started with -allow-training=false).")
		})
	}
	// GET /learn and /learn/{lesson} are the lessons, in English or
	// Vietnamese.
	r.Mount("/learn", learn.New(d.Catalog, d.Gallery).Routes())
	// POST /classroom starts a class; GET /classroom/{code}/ws follows it.
	r.Mount("/classroom", classroom.New().Routes())
	// GET /static/* serves the embedded JS, CSS and icons.
	r.Handle("/static/*", files("/static/", d.Static))
	// GET /samples/{dataset}/{file} serves the gallery's pictures.
	r.Handle("/samples/*", files("/samples/", d.Gallery.FS()))
	if d.Metrics != nil {
		// GET /metrics is for the monitoring system (Prometheus' text
		// format); deploy/nginx/convscope.conf keeps it from the public.
		watch(d.Metrics, sessions, d.Training)
		r.Handle("/metrics", d.Metrics.Handler())
	}
	// GET /healthz answers "ok" while the server runs.
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return &Router{Handler: r, sessions: sessions}
}

// watch adds the gauges read from the rooms' own counts at each scrape.
func watch(m *metrics.Metrics, sessions *session.Handler, runs *training.Manager) {
	m.Gauge("convscope_sessions_open", "Websocket sessions (explorer pages) open now.", func() float64 { return float64(sessions.Open()) })
	m.Gauge("convscope_queue_length", "Runs waiting in line for their share of the pass memory budget.", func() float64 { return float64(sessions.Budget.Waiting()) })
	m.Gauge("convscope_pass_memory_bytes", "Bytes of the pass memory budget (-pass-memory) the kept forward passes hold.", func() float64 { return float64(sessions.Budget.InUse()) })
	m.Gauge("convscope_pass_memory_limit_bytes", "The pass memory budget (-pass-memory), in bytes; 0 when unbounded.", func() float64 { return float64(sessions.Budget.Total()) })
	if runs != nil {
		m.Gauge("convscope_training_queue_length", "Training runs waiting for the one under way.", func() float64 { return float64(runs.Queued()) })
		runs.Count(m)
	}
}

// notFound is the site's own 404 page.
func notFound(w http.ResponseWriter, r *http.Request) {
	layout.NotFound(w, r, "There is no page at "+r.URL.Path+".")
}

// files serves the files of fsys under prefix, to GET and HEAD only (405
// otherwise), and never lists a folder: a folder, like a missing file, is
// the site's 404 page.
func files(prefix string, fsys fs.FS) http.Handler {
	server := http.StripPrefix(prefix, http.FileServerFS(fsys))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, r.Method+" is not allowed here: "+prefix+" answers GET and HEAD only", http.StatusMethodNotAllowed)
			return
		}
		name := path.Clean("/" + strings.TrimPrefix(r.URL.Path, prefix))[1:]
		if name == "" || strings.HasSuffix(r.URL.Path, "/") {
			notFound(w, r)
			return
		}
		if info, err := fs.Stat(fsys, name); errors.Is(err, fs.ErrNotExist) || err == nil && info.IsDir() {
			notFound(w, r)
			return
		}
		server.ServeHTTP(w, r)
	})
}

// secureHeaders sets the content security policy, no-sniffing and no
// referrer on every answer.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// answerRequestID tells every answer its request's id (X-Request-Id: the
// proxy's, or one middleware.RequestID made), which the log lines carry:
// a visitor's report of an error can be found by it.
func answerRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := middleware.GetReqID(r.Context()); id != "" {
			w.Header().Set(middleware.RequestIDHeader, clip(id, 200))
		}
		next.ServeHTTP(w, r)
	})
}

// maxLoggedPath is the most bytes of a request's path logRequests writes.
const maxLoggedPath = 256

// logRequests logs one line per request with its status and duration; a
// path longer than maxLoggedPath is cut there (at a character boundary),
// with "…".
func logRequests(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			start := time.Now()
			next.ServeHTTP(ww, r)
			log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("path", clip(r.URL.Path, maxLoggedPath)),
				slog.Int("status", ww.Status()), slog.Int("bytes", ww.BytesWritten()),
				slog.Duration("took", time.Since(start)), slog.String("request_id", middleware.GetReqID(r.Context())))
		})
	}
}

// clip cuts s to at most n bytes at a character boundary, then "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// sameOrigin refuses a POST sent by a page of another site: a form
// elsewhere must not upload pictures or models, start scans or start and
// stop training runs on this server through a visitor's browser. Browsers say where a request comes from in
// Sec-Fetch-Site; without it, an Origin naming another host is refused
// (the page's own POSTs carry "null" under its no-referrer policy).
func sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && !fromHere(r) {
			http.Error(w, "a page of another site may not send this server requests that change it", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// fromHere reports whether r comes from this site's own pages (or from no
// page: a command-line client).
func fromHere(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default: // same-site, cross-site
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}
