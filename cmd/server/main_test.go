package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestServeAndShutDown starts the real wiring on a free port, serves a page
// and a websocket, then cancels: the websocket is told the server is going
// away and serve returns nil.
func TestServeAndShutDown(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	stop := make(chan struct{})
	handler, _, err := newHandler(logger, stop, options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, logger, ln, handler, func() { close(stop) }) }()

	base := "http://" + ln.Addr().String()
	for _, path := range []string{"/healthz", "/", "/model", "/static/js/main.js"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, res.Status)
		}
	}
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, hello, err := conn.ReadMessage(); err != nil || !strings.Contains(string(hello), `"hello"`) {
		t.Fatalf("first message %q, %v", hello, err)
	}

	cancel()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := conn.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("websocket after shutdown: %v, want close 1001", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(shutdownWait + time.Second):
		t.Fatal("serve did not return after shutdown")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := run(context.Background(), logger, []string{"-nope"}); err == nil {
		t.Fatal("an unknown flag was accepted")
	}
}

func TestRunRejectsANegativeSessionCap(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := run(context.Background(), logger, []string{"-max-sessions", "-1"}); err == nil || !strings.Contains(err.Error(), "-max-sessions") {
		t.Fatalf("-max-sessions -1: %v", err)
	}
}

// The server closes idle keep-alive connections and slow headers.
func TestServerTimeouts(t *testing.T) {
	srv := newServer(slog.New(slog.NewTextHandler(io.Discard, nil)), http.NotFoundHandler())
	if srv.IdleTimeout != 2*time.Minute || srv.ReadHeaderTimeout != 10*time.Second {
		t.Fatalf("idle timeout %v, read header timeout %v; want 2m and 10s", srv.IdleTimeout, srv.ReadHeaderTimeout)
	}
}

func TestAllowedHosts(t *testing.T) {
	machine, err := os.Hostname()
	if err != nil {
		t.Skip("no host name:", err)
	}
	loopback := []string{"localhost", "127.0.0.1", "[::1]"}
	for _, tc := range []struct {
		addr string
		want []string
	}{
		{"localhost:8080", loopback},
		{"127.0.0.1:0", loopback},
		{"convscope.lan:80", append(slices.Clone(loopback), "convscope.lan")},
		{"192.168.1.5:8080", append(slices.Clone(loopback), "192.168.1.5")},
		{":8080", append(slices.Clone(loopback), machine)},
		{"0.0.0.0:8080", append(slices.Clone(loopback), machine)},
		{"[::]:8080", append(slices.Clone(loopback), machine)},
	} {
		if got := defaultHosts(tc.addr); !slices.Equal(got, tc.want) {
			t.Errorf("defaultHosts(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	for flag, want := range map[string][]string{
		"":                   nil,
		"*":                  nil,
		"a.example,*":        nil,
		" a.example , b:80 ": {"a.example", "b:80"},
		",":                  nil,
	} {
		if got := parseHosts(flag); !slices.Equal(got, want) {
			t.Errorf("parseHosts(%q) = %q, want %q", flag, got, want)
		}
	}
}

// -pprof serves the profiles on an address of its own, never on the site;
// -log-format json writes one JSON object a line, with the replica's name;
// /metrics names the build.
func TestPprofJSONLogsAndBuildInfo(t *testing.T) {
	site, profiles := freeTCPAddr(t), freeTCPAddr(t)
	var logs lockedLog
	logOutput = &logs
	defer func() { logOutput = os.Stderr }()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), []string{"-addr", site, "-pprof", profiles,
			"-log-format", "json", "-replica", "r7", "-allow-training=false"})
	}()
	get := func(url string) (int, string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			res, err := http.Get(url)
			if err == nil {
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				return res.StatusCode, string(b)
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %v", url, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if code, body := get("http://" + profiles + "/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("pprof index: %d %.80q", code, body)
	}
	if code, _ := get("http://" + site + "/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("the site serves /debug/pprof/: %d", code)
	}
	if code, body := get("http://" + site + "/metrics"); code != http.StatusOK || !strings.Contains(body, `convscope_build_info{commit=`) {
		t.Errorf("/metrics: %d, no convscope_build_info", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var requests int
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		if rec["replica"] != "r7" {
			t.Errorf("log line without the replica's name: %s", l)
		}
		if rec["msg"] == "request" {
			requests++
			if id, _ := rec["request_id"].(string); id == "" {
				t.Errorf("a request's line without its id: %s", l)
			}
		}
	}
	if requests < 2 {
		t.Errorf("%d request lines in %d lines of log", requests, len(lines))
	}
}

// freeTCPAddr is a loopback address nobody listens on now.
func freeTCPAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lockedLog is a log written by the server while the test reads it.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
