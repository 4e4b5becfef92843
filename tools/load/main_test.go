package main

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/convscope/convscope/static"
	"github.com/convscope/convscope/web"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/samples"
	"github.com/convscope/convscope/web/upload"
)

func TestLoadsOnlyLoopback(t *testing.T) {
	if err := run([]string{"-url", "http://192.0.2.1:8080", "-duration", "1s"}, io.Discard); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("a non-loopback server: %v", err)
	}
	if err := run([]string{"-duration", "11m"}, io.Discard); err == nil {
		t.Fatal("11 minutes accepted")
	}
}

// A short load on a real router: every run of the light pages succeeds.
func TestShortLoad(t *testing.T) {
	models, err := catalog.Untrained("lenet5", 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.NewRouter(web.Deps{Catalog: models, Gallery: samples.New(static.FS), Uploads: upload.NewStore(8, time.Hour),
		Static: static.FS, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	var out strings.Builder
	if err := run([]string{"-url", srv.URL, "-light", "3", "-light-model", "lenet5-untrained", "-heavy", "0", "-duration", "1s"}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.HasPrefix(lines[0], "light lenet5-untrained") || !strings.Contains(lines[0], " 0 errors") || strings.Contains(lines[0], "   0 ok") {
		t.Fatalf("report:\n%s", out.String())
	}
}
