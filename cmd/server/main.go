// Command server is convscope's web visualizer: one binary that serves the
// explorer page, the model tables, uploads and the websocket that streams
// every layer's feature maps and deconvnet projections.
//
//	go run ./cmd/server            # http://localhost:8080
//	go run ./cmd/server -addr :9000
//
// It is wiring only: constructors are called by hand here, the work is done
// by package web and below.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/static"
	"github.com/convscope/convscope/version"
	"github.com/convscope/convscope/web"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/metrics"
	"github.com/convscope/convscope/web/samples"
	"github.com/convscope/convscope/web/training"
	"github.com/convscope/convscope/web/upload"
)

const (
	// shutdownWait is how long in-flight requests, then the websocket
	// sessions' close frames, get after SIGINT/SIGTERM.
	shutdownWait = 10 * time.Second
	// idleTimeout closes a keep-alive connection that has waited this long
	// for its next request.
	idleTimeout = 120 * time.Second
	// readHeaderTimeout cuts a client that is slow to send its headers.
	readHeaderTimeout = 10 * time.Second
	// uploadsKept and uploadTTL bound the in-memory upload store.
	uploadsKept = 256
	uploadTTL   = time.Hour
)

// logOutput is where -log-format json writes.
var logOutput io.Writer = os.Stderr

func main() {
	logger := slog.New(slog.NewTextHandler(logOutput, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, logger, os.Args[1:]); err != nil {
		logger.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// options are the server's settings from its flags.
type options struct {
	// maxSessions caps the open websocket sessions; 0 is no cap.
	maxSessions int
	// allowedHosts are the Host names answered; nil allows all.
	allowedHosts []string
	// passMemory bounds the memory of the forward passes sessions keep,
	// in bytes; 0 is no bound.
	passMemory int64
	// models (-model) and modelsDir (-models) are the checkpoints offered
	// besides the embedded ones.
	models    []catalog.File
	modelsDir string
	// allowUpload lets visitors upload models (-allow-model-upload).
	allowUpload bool
	// dataDir is where the experiments look for datasets first (-data-dir).
	dataDir string
	// training turns the live training page on (-allow-training), its
	// runs kept in runsDir (-runs).
	training bool
	runsDir  string
	// replica names this server among several behind a proxy (-replica).
	replica string
}

// run parses flags, builds the handler and serves until ctx ends.
func run(ctx context.Context, logger *slog.Logger, args []string) error {
	fl := flag.NewFlagSet("server", flag.ContinueOnError)
	addr := fl.String("addr", "localhost:8080", "address to listen on")
	maxSessions := fl.Int("max-sessions", 1000, "most websocket sessions open at once; past it a page is closed with 1013, try again later (0: no cap)")
	hosts := fl.String("allowed-hosts", "", "comma-separated host names the server answers to, against DNS rebinding; "+
		"other names get 421 (IP addresses are always answered). Empty or * allows all. "+
		"(default localhost, 127.0.0.1, [::1] and the host of -addr, or this machine's name when -addr has none)")
	memoryMiB := fl.Int64("memory", machineMiB()*7/10, "MiB the server's memory should stay within: the Go runtime's soft limit, less 64 MiB for the binary "+
		"(runtime/debug.SetMemoryLimit; the GOMEMLIMIT variable, when set, wins); default 70% of this machine's memory")
	passMiB := fl.Int64("pass-memory", -1, "MiB of -memory for the forward passes visitors' pages keep (a VGG-16 pass takes about 220); "+
		"past it a run waits in line, its place shown, then hears the server is busy (0: no bound; default half of -memory)")
	var named []catalog.File
	fl.Func("model", "a checkpoint to offer, FILE or ARCH=FILE (a PyTorch state_dict of zoo architecture ARCH, identified from its tensors when not named; "+
		"a convscope checkpoint); listed first, under its file name without the extension; repeatable", func(v string) error {
		f, err := parseModelFlag(v)
		named = append(named, f)
		return err
	})
	allowUpload := fl.Bool("allow-model-upload", false, "let visitors upload a model of their own (.pth, .pt, .safetensors, .onnx, up to 64 MB), kept for their session only")
	modelsDir := fl.String("models", "", "a folder whose checkpoints (.pth, .pt, .safetensors) and ONNX graphs (.onnx) are offered like -model's; a file that fails is logged and left out")
	allowTraining := fl.Bool("allow-training", true, "the live training page (/train): visitors train models on this server, one run at a time; false on a public server")
	runsDir := fl.String("runs", "", "where the training page keeps its runs (default ~/.cache/convscope/runs)")
	dataDir := fl.String("data-dir", "", "a folder holding datasets the experiments scan (default: searched, as convscope train does)")
	replica := fl.String("replica", "", "this server's name among replicas behind a proxy, told to each page and written on every log line (default HOST:PORT)")
	logFormat := fl.String("log-format", "text", "log lines as text (key=value) or json (one JSON object per line, for a log collector)")
	pprofAddr := fl.String("pprof", "", "serve net/http/pprof's profiles at this address (say localhost:6060), apart from the site; off when empty")
	showVersion := fl.Bool("version", false, "print the version, commit and Go version, and exit")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Println(version.Get())
		return nil
	}
	switch *logFormat {
	case "text":
	case "json":
		logger = slog.New(slog.NewJSONHandler(logOutput, nil))
	default:
		return fmt.Errorf("-log-format %q: want text or json", *logFormat)
	}
	if *memoryMiB <= 0 {
		return fmt.Errorf("-memory %d: want a number of MiB", *memoryMiB)
	}
	if *passMiB < 0 {
		*passMiB = *memoryMiB / 2
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		// The runtime's limit leaves room for what it does not count in
		// the process's resident memory: the binary's code and data.
		debug.SetMemoryLimit(max(*memoryMiB<<20*15/16, *memoryMiB<<20-outsideHeap))
	}
	if *maxSessions < 0 {
		return fmt.Errorf("-max-sessions %d: want 0 (no cap) or more", *maxSessions)
	}
	opts := options{maxSessions: *maxSessions, allowedHosts: defaultHosts(*addr), passMemory: *passMiB << 20, models: named, modelsDir: *modelsDir, allowUpload: *allowUpload, dataDir: *dataDir,
		training: *allowTraining, runsDir: *runsDir}
	fl.Visit(func(f *flag.Flag) {
		if f.Name == "allowed-hosts" {
			opts.allowedHosts = parseHosts(*hosts)
		}
	})
	// Listening first gives -addr :0 its port, for the replica's name; a
	// proxy's connections wait in the backlog while the models load.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	opts.replica = *replica
	if opts.replica == "" {
		host, _ := os.Hostname()
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		opts.replica = net.JoinHostPort(host, port)
	}
	logger = logger.With("replica", opts.replica)
	logger.Info("build", "version", version.Get().String())
	logger.Info("memory", "limit_mib", debug.SetMemoryLimit(-1)>>20, "passes_mib", *passMiB)
	if *pprofAddr != "" {
		if err := servePprof(ctx, logger, *pprofAddr); err != nil {
			ln.Close()
			return err
		}
	}
	stop := make(chan struct{})
	handler, runs, err := newHandler(logger, stop, opts)
	if err != nil {
		ln.Close()
		return err
	}
	logger.Info("convscope is serving", "url", "http://"+ln.Addr().String())
	if opts.allowedHosts == nil {
		logger.Info("every host name is answered (-allowed-hosts)")
	} else {
		logger.Info("host names answered, besides IP addresses (-allowed-hosts)", "hosts", strings.Join(opts.allowedHosts, ","))
	}
	return serve(ctx, logger, ln, handler, func() {
		close(stop)
		if runs != nil {
			runs.Close() // the run under way saves its state, to resume at the next start
		}
	})
}

// defaultHosts are the host names answered when -allowed-hosts is not
// given: the loopback names, and the host of addr if it names one, or,
// when addr listens on every interface, this machine's name.
func defaultHosts(addr string) []string {
	hosts := []string{"localhost", "127.0.0.1", "[::1]"}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return hosts
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if name, err := os.Hostname(); err == nil && name != "" {
			host = name
		} else {
			return hosts
		}
	}
	if !slices.Contains(hosts, host) {
		hosts = append(hosts, host)
	}
	return hosts
}

// parseHosts reads -allowed-hosts: nil (every host) for "" or a "*".
func parseHosts(s string) []string {
	var hosts []string
	for _, h := range strings.Split(s, ",") {
		h = strings.TrimSpace(h)
		if h == "*" {
			return nil
		}
		if h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// newHandler wires the catalog, the gallery, the upload store, the
// training runs and the static files into the router. Closing stop ends
// the websocket sessions and the event streams.
func newHandler(logger *slog.Logger, stop <-chan struct{}, opts options) (*web.Router, *training.Manager, error) {
	cat, err := openCatalog(logger, opts.models, opts.modelsDir)
	if err != nil {
		return nil, nil, err
	}
	sampleFS, err := fs.Sub(static.FS, "samples")
	if err != nil {
		return nil, nil, fmt.Errorf("embedded samples: %w", err)
	}
	var runs *training.Manager
	if opts.training {
		dir := opts.runsDir
		if dir == "" {
			if dir, err = data.CacheDir("runs"); err != nil {
				return nil, nil, err
			}
		}
		if runs, err = training.NewManager(dir, opts.dataDir, cat, logger); err != nil {
			return nil, nil, fmt.Errorf("training runs in %s: %w", dir, err)
		}
	}
	return web.NewRouter(web.Deps{
		Catalog:          cat,
		Gallery:          samples.New(sampleFS),
		Uploads:          upload.NewStore(uploadsKept, uploadTTL),
		Static:           static.FS,
		Logger:           logger,
		Stop:             stop,
		MaxSessions:      opts.maxSessions,
		AllowedHosts:     opts.allowedHosts,
		PassMemory:       opts.passMemory,
		AllowModelUpload: opts.allowUpload,
		DataDir:          opts.dataDir,
		Training:         runs,
		Replica:          opts.replica,
		Metrics:          newMetrics(),
	}), runs, nil
}

// outsideHeap is the resident memory the Go runtime's limit does not
// count (the binary's code and data, about 40 MiB): the runtime's limit is
// -memory less this, or 15/16 of it for a small -memory.
const outsideHeap = 64 << 20

// machineMiB is this machine's memory (/proc/meminfo's MemTotal), or
// 8192 MiB where that cannot be read.
func machineMiB() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 8192
	}
	for _, line := range strings.Split(string(b), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil && kb > 0 {
			return kb >> 10
		}
	}
	return 8192
}

// newServer is the HTTP server of handler, with its timeouts.
func newServer(logger *slog.Logger, handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// serve runs an HTTP server on ln until ctx ends, then shuts it down
// gracefully: new connections stop, requests in flight get shutdownWait,
// onShutdown runs (it tells the websocket sessions, which Shutdown does
// not track, that the server is going away), and serve returns once every
// session has been sent its close frame, within the same shutdownWait.
func serve(ctx context.Context, logger *slog.Logger, ln net.Listener, handler *web.Router, onShutdown func()) error {
	srv := newServer(logger, handler)
	srv.RegisterOnShutdown(onShutdown)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	wait, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	if err := srv.Shutdown(wait); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// Returning ends the process: first let the session writers send the
	// close frames onShutdown asked for.
	if err := handler.WaitSessions(wait); err != nil {
		logger.Warn("shutdown: websocket sessions not told in time", "err", err)
	}
	return nil
}

// newMetrics is the server's metrics, with its build's identity as
// convscope_build_info.
func newMetrics() *metrics.Metrics {
	m := metrics.New()
	v := version.Get()
	m.Info("convscope_build_info", "The running build: its version, commit and Go version (always 1).",
		map[string]string{"version": v.Version, "commit": v.Commit, "goversion": v.Go})
	return m
}

// servePprof serves net/http/pprof's handlers at addr, on a listener of
// their own (never through the site's router, so no proxy rule can expose
// them), until ctx ends.
func servePprof(ctx context.Context, logger *slog.Logger, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		logger.Warn("pprof is served beyond this machine: anyone who reaches it can profile the server", "addr", ln.Addr().String())
	}
	logger.Info("pprof is serving", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return nil
}
