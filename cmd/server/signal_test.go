package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestMain lets the test binary be the server: with CONVSCOPE_TEST_SERVER
// set it runs main with the arguments that variable holds (one per line),
// so a test can send the real process a signal.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("CONVSCOPE_TEST_SERVER"); ok {
		os.Args = append([]string{"server"}, strings.Split(args, "\n")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startServer runs the server as a child process on a free loopback port
// and returns it with its address once it serves.
func startServer(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	all := append([]string{"-addr", "127.0.0.1:0"}, args...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CONVSCOPE_TEST_SERVER="+strings.Join(all, "\n"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	serving := regexp.MustCompile(`url=http://(\S+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := serving.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case addr := <-found:
		return cmd, addr
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not say where it serves")
	}
	return nil, ""
}

// TestSIGTERMSendsGoingAwayBeforeExit opens sessions on the real server
// process, sends it SIGTERM, and waits for it to exit: only then does each
// client read, and every one must find the 1001 close frame (a process that
// exits before its writers send it leaves them an abrupt end instead).
func TestSIGTERMSendsGoingAwayBeforeExit(t *testing.T) {
	cmd, addr := startServer(t)
	const sessions = 12
	conns := make([]*websocket.Conn, sessions)
	for i := range conns {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, _, err := c.ReadMessage(); err != nil { // hello
			t.Fatal(err)
		}
		conns[i] = c
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("server exited with %v", err)
		}
	case <-time.After(shutdownWait + 5*time.Second):
		t.Fatal("the server did not exit after SIGTERM")
	}
	got := 0
	var errs []string
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _, err := c.ReadMessage()
		if websocket.IsCloseError(err, websocket.CloseGoingAway) {
			got++
		} else {
			errs = append(errs, fmt.Sprint(err))
		}
	}
	if got != sessions {
		t.Fatalf("%d of %d sessions got the 1001 close frame before the server exited; the others: %v", got, sessions, errs)
	}
}

// TestFlagsReachTheServer starts the server with a cap of one session and
// one allowed host name: the second websocket is closed with 1013 while
// pages still load, and a request under another name gets 421.
func TestFlagsReachTheServer(t *testing.T) {
	_, addr := startServer(t, "-max-sessions", "1", "-allowed-hosts", "convscope.test")
	first, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, _, err := first.ReadMessage(); err != nil { // hello
		t.Fatal(err)
	}
	second, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = second.ReadMessage()
	second.Close()
	if !websocket.IsCloseError(err, websocket.CloseTryAgainLater) {
		t.Fatalf("second session with -max-sessions 1: %v, want close 1013", err)
	}
	for _, tc := range []struct {
		host   string
		status int
	}{
		{"", http.StatusOK}, // the address itself: an IP
		{"convscope.test", http.StatusOK},
		{"CONVSCOPE.test:8080", http.StatusOK},
		{"localhost", http.StatusMisdirectedRequest}, // not in the flag's list
		{"evil.example", http.StatusMisdirectedRequest},
	} {
		req, err := http.NewRequest("GET", "http://"+addr+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.host != "" {
			req.Host = tc.host
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status {
			t.Errorf("GET / with Host %q: %d, want %d (%.100s)", tc.host, res.StatusCode, tc.status, body)
		}
		if tc.status == http.StatusMisdirectedRequest && !strings.Contains(string(body), "DNS rebinding") {
			t.Errorf("the 421 says %q", body)
		}
	}
}
