package main

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

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

// Every count is bounded, and the new flags parse.
func TestFlags(t *testing.T) {
	c, err := parseFlags([]string{"-url", "http://localhost:8091/", "-project", "-idle", "3000", "-uploads", "100", "-slow-uploads", "100"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.project || c.idle != 3000 || c.uploads != 100 || c.slowUploads != 100 || c.base != "http://localhost:8091" {
		t.Fatalf("parsed %+v", c)
	}
	if n := c.connections(); n != 30+1+3000+100+100 {
		t.Fatalf("connections %d", n)
	}
	for _, args := range [][]string{
		{"-duration", "0s"},
		{"-light", "-1"},
		{"-light", "1500", "-heavy", "501"},
		{"-idle", "-1"},
		{"-idle", "20001"},
		{"-uploads", "1001"},
		{"-slow-uploads", "-2"},
		{"-project", "yes"}, // a bool flag takes no value: "yes" is an argument
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

// A load needing more open files than the limit is refused, saying why.
func TestFileLimit(t *testing.T) {
	if err := checkFiles(3000, 1024); err == nil || !strings.Contains(err.Error(), "RLIMIT_NOFILE is 1024") {
		t.Fatalf("3,000 connections under 1,024 files: %v", err)
	}
	if err := checkFiles(3000, 4096); err != nil {
		t.Fatal(err)
	}
	limit, err := raiseFileLimit()
	if err != nil || limit < 64 {
		t.Fatalf("limit %d, %v", limit, err)
	}
}

func TestQuantile(t *testing.T) {
	var d []time.Duration
	if quantile(d, 0.5) != 0 {
		t.Fatal("none")
	}
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{0: 1, 0.5: 51, 0.99: 100, 1: 100} {
		if got := quantile(d, p); got != want*time.Millisecond {
			t.Errorf("quantile %v = %v, want %v ms", p, got, want)
		}
	}
	if got := quantile(d[:1], 0.99); got != time.Millisecond {
		t.Errorf("one time: %v", got)
	}
}

// The middle convolution, nested ones counted; else the middle row.
func TestChooseLayer(t *testing.T) {
	rows := []row{{"c1", "Conv2d"}, {"c1.act", "Tanh"}, {"s2", "AvgPool2d"}, {"c3", "Conv2d"}, {"c5", "Conv2d"}, {"f6", "Linear"}}
	if got := chooseLayer(rows); got != "c3" {
		t.Errorf("LeNet-5: %q", got)
	}
	rows = []row{{"conv1", "Conv2d"}, {"layer1", "Sequential"}, {"layer1.0", "Residual"}, {"layer1.0.conv1", "Conv2d"}, {"layer1.0.conv2", "Conv2d"}, {"fc", "Linear"}}
	if got := chooseLayer(rows); got != "layer1.0.conv1" {
		t.Errorf("ResNet: %q", got)
	}
	if got := chooseLayer([]row{{"flatten", "Flatten"}, {"fc1", "Linear"}, {"fc2", "Linear"}}); got != "fc1" {
		t.Errorf("no convolution: %q", got)
	}
	if got := chooseLayer(nil); got != "" {
		t.Errorf("no rows: %q", got)
	}
}

// Outcomes are listed by count, and errors lose their addresses.
func TestReport(t *testing.T) {
	g := &group{name: "slow uploads", noun: "answered"}
	g.record(15*time.Second, nil)
	g.end("408 Request Timeout", 15*time.Second)
	g.end("connection: connection reset", time.Second)
	g.end("connection: connection reset", 2*time.Second)
	var out strings.Builder
	g.report(&out, 20)
	want := "slow uploads              1 answered    0 errors  p50  15000.0 ms  p99  15000.0 ms  max  15000.0 ms\n" +
		"    2 x connection: connection reset  p50 2000.0 ms  p99 2000.0 ms  max 2000.0 ms\n" +
		"    1 x 408 Request Timeout  p50 15000.0 ms  p99 15000.0 ms  max 15000.0 ms\n"
	if out.String() != want {
		t.Fatalf("report:\n%s\nwant:\n%s", out.String(), want)
	}
	_, err := http.Get("http://127.0.0.1:1/")
	if got := describe(err); got != "connection refused" {
		t.Errorf("describe(%v) = %q", err, got)
	}
	if got := describe(errors.New("odd")); got != "odd" {
		t.Errorf("describe: %q", got)
	}
}

// newServer serves the web router on LeNet-5 (untrained), with at most
// maxSessions websockets (0: no cap).
func newServer(t *testing.T, maxSessions int) *httptest.Server {
	t.Helper()
	models, err := catalog.Untrained("lenet5", 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.NewRouter(web.Deps{Catalog: models, Gallery: samples.New(static.FS), Uploads: upload.NewStore(8, time.Hour),
		Static: static.FS, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxSessions: maxSessions}))
	t.Cleanup(srv.Close)
	return srv
}

// line is the report's line that starts with prefix, or "".
func line(report, prefix string) string {
	for _, l := range strings.Split(report, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// count is the number before word in a report line ("12 ok"), or -1.
func count(l, word string) int {
	m := regexp.MustCompile(`(\d+) ` + word).FindStringSubmatch(l)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// A short load on a real router: every run of the light pages succeeds.
func TestShortLoad(t *testing.T) {
	srv := newServer(t, 0)
	var out strings.Builder
	if err := run([]string{"-url", srv.URL, "-light", "3", "-light-model", "lenet5-untrained", "-heavy", "0", "-duration", "1s"}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.HasPrefix(lines[0], "light lenet5-untrained") || !strings.Contains(lines[0], " 0 errors") || strings.Contains(lines[0], "   0 ok") {
		t.Fatalf("report:\n%s", out.String())
	}
}

// Pages that project: every run and every projection succeeds.
func TestProjectLoad(t *testing.T) {
	srv := newServer(t, 0)
	var out strings.Builder
	if err := run([]string{"-url", srv.URL, "-light", "2", "-light-model", "lenet5-untrained", "-heavy", "0", "-project", "-duration", "1s"}, &out); err != nil {
		t.Fatal(err)
	}
	runs, proj := line(out.String(), "light lenet5-untrained "), line(out.String(), "light lenet5-untrained projections")
	if count(runs, "ok") < 1 || count(runs, "errors") != 0 || count(proj, "ok") < 1 || count(proj, "errors") != 0 {
		t.Fatalf("report:\n%s", out.String())
	}
}

// Idle websockets past the server's cap are refused (a 503, or a close
// 1013 before the hello); the others hear their hello and are held to the
// end.
func TestIdleLoad(t *testing.T) {
	srv := newServer(t, 3)
	var out strings.Builder
	if err := run([]string{"-url", srv.URL, "-light", "0", "-heavy", "0", "-idle", "5", "-duration", "1s"}, &out); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	l := line(report, "idle websockets")
	if count(l, "ok") != 3 || count(l, "errors") != 2 ||
		!regexp.MustCompile(`2 x (refused 503 Service Unavailable|closed before the hello: close 1013): too many open sessions \(the limit is 3\)`).MatchString(report) ||
		!strings.Contains(report, "3 x held to the end") {
		t.Fatalf("report:\n%s", report)
	}
}

// Uploads succeed; slow uploads are cut off by the read deadline, here
// one second, with 408.
func TestUploadLoads(t *testing.T) {
	h := upload.New(upload.NewStore(8, time.Hour), slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.ReadWait = time.Second
	r := chi.NewRouter()
	r.Mount("/upload", h.Routes())
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	srv := httptest.NewServer(r)
	defer srv.Close()
	var out strings.Builder
	if err := run([]string{"-url", srv.URL, "-light", "0", "-heavy", "0", "-uploads", "2", "-slow-uploads", "2", "-duration", "2500ms"}, &out); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	ups, slow := line(report, "uploads ("), line(report, "slow uploads")
	if count(ups, "ok") < 1 || count(ups, "errors") != 0 || count(slow, "answered") < 2 || count(slow, "errors") != 0 ||
		count(report, `x 408 Request Timeout`) < 2 || !strings.Contains(report, "x still sending when the load ended") {
		t.Fatalf("report:\n%s", report)
	}
}
