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
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/convscope/convscope/static"
	"github.com/convscope/convscope/web"
	"github.com/convscope/convscope/web/samples"
	"github.com/convscope/convscope/web/upload"
)

const (
	// shutdownWait is how long in-flight requests get after SIGINT/SIGTERM.
	shutdownWait = 10 * time.Second
	// uploadsKept and uploadTTL bound the in-memory upload store.
	uploadsKept = 256
	uploadTTL   = time.Hour
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, logger, os.Args[1:]); err != nil {
		logger.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// run parses flags, builds the handler and serves until ctx ends.
func run(ctx context.Context, logger *slog.Logger, args []string) error {
	fl := flag.NewFlagSet("server", flag.ContinueOnError)
	addr := fl.String("addr", "localhost:8080", "address to listen on")
	if err := fl.Parse(args); err != nil {
		return err
	}
	stop := make(chan struct{})
	handler, err := newHandler(logger, stop)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	logger.Info("convscope is serving", "url", "http://"+ln.Addr().String())
	return serve(ctx, logger, ln, handler, func() { close(stop) })
}

// newHandler wires the catalog, the gallery, the upload store and the
// static files into the router. Closing stop ends the websocket sessions.
func newHandler(logger *slog.Logger, stop <-chan struct{}) (http.Handler, error) {
	cat, err := openCatalog(logger)
	if err != nil {
		return nil, err
	}
	sampleFS, err := fs.Sub(static.FS, "samples")
	if err != nil {
		return nil, fmt.Errorf("embedded samples: %w", err)
	}
	return web.NewRouter(web.Deps{
		Catalog: cat,
		Gallery: samples.New(sampleFS),
		Uploads: upload.NewStore(uploadsKept, uploadTTL),
		Static:  static.FS,
		Logger:  logger,
		Stop:    stop,
	}), nil
}

// serve runs an HTTP server on ln until ctx ends, then shuts it down
// gracefully: new connections stop, requests in flight get shutdownWait,
// and onShutdown runs (it tells the websocket sessions, which Shutdown does
// not track, that the server is going away).
func serve(ctx context.Context, logger *slog.Logger, ln net.Listener, handler http.Handler, onShutdown func()) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
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
	return nil
}
