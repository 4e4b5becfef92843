package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// replica is one cmd/server process of the replicas test.
type replica struct {
	name, addr string
	args       []string
	cmd        *exec.Cmd
	log        *lockedBuffer
	exited     chan struct{}
}

// lockedBuffer is a log the process writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeAddr is a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitHealthy polls url's /healthz until it answers 200.
func waitHealthy(t *testing.T, url string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		res, err := http.Get(url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/healthz did not answer within %s: %v", url, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// start runs the replica's process and waits until it serves.
func (r *replica) start(t *testing.T, bin string) {
	t.Helper()
	r.cmd = exec.Command(bin, append([]string{"-addr", r.addr, "-replica", r.name, "-memory", "1536"}, r.args...)...)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		_ = cmd.Wait()
		close(exited)
	}(r.cmd, r.exited)
	waitHealthy(t, "http://"+r.addr, time.Minute)
}

// stop signals the process and waits for it to end.
func (r *replica) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	_ = r.cmd.Process.Signal(sig)
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop within 30 s of %v", r.name, sig)
	}
}

// TestBrowserThroughProxy runs three replicas of the server behind Debian's
// nginx with deploy/nginx/convscope.conf (its addresses changed): round
// robin, no stickiness, no shared store. The page's main path (a sample,
// an upload, a projection) passes through the proxy; a replica killed
// under the page costs it a reconnection, after which the same picture
// runs again on another replica and projects; a rolling restart of all
// three loses nothing more.
func TestBrowserThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers and nginx")
	}
	if raceDetector {
		t.Skip("the browser tests run without -race")
	}
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if nginx, err = exec.LookPath("/usr/sbin/nginx"); err != nil {
			t.Skip("no nginx: install Debian's nginx-light (apt-get install nginx-light) to run the proxy test")
		}
	}
	if chromium() == "" {
		t.Skip("no chromium on PATH")
	}
	// A folder nginx's workers (nobody, when the test runs as root) can
	// reach: t.TempDir's parent is private to this user.
	dir, err := os.MkdirTemp("", "convscope-replicas-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "convscope-server")
	build := exec.Command("go", "build", "-o", bin, "../cmd/server")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/server: %v\n%s", err, out)
	}

	// r1 is the home replica (training, classrooms); r2 and r3 are not.
	replicas := []*replica{
		{name: "r1", args: []string{"-runs", filepath.Join(dir, "runs")}},
		{name: "r2", args: []string{"-allow-training=false"}},
		{name: "r3", args: []string{"-allow-training=false"}},
	}
	for _, r := range replicas {
		r.addr, r.log = freeAddr(t), &lockedBuffer{}
		r.start(t, bin)
		t.Cleanup(func() {
			if r.cmd.ProcessState == nil {
				_ = r.cmd.Process.Kill()
				<-r.exited
			}
			if t.Failed() {
				t.Logf("%s's log:\n%s", r.name, r.log)
			}
		})
	}

	// The committed configuration, with this test's addresses.
	site, err := os.ReadFile("../deploy/nginx/convscope.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(site)
	proxy := freeAddr(t)
	for i, r := range replicas {
		old := fmt.Sprintf("127.0.0.1:%d", 8081+i)
		if strings.Count(conf, old) == 0 {
			t.Fatalf("deploy/nginx/convscope.conf no longer names %s", old)
		}
		conf = strings.ReplaceAll(conf, old, r.addr)
	}
	if !strings.Contains(conf, "listen 8080;") {
		t.Fatal("deploy/nginx/convscope.conf no longer listens on 8080")
	}
	conf = strings.Replace(conf, "listen 8080;", "listen "+proxy+";", 1)
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	main := fmt.Sprintf(`worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 512; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/site.conf;
}
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	ng := exec.Command(nginx, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf"), "-g", "daemon off;")
	var ngLog lockedBuffer
	ng.Stdout, ng.Stderr = &ngLog, &ngLog
	if err := ng.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = ng.Process.Signal(syscall.SIGQUIT)
		_ = ng.Wait()
		if t.Failed() {
			errs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx:\n%s%s", ngLog.String(), errs)
		}
	})
	url := "http://" + proxy
	waitHealthy(t, url, 30*time.Second)

	// Work that outlives a connection lives on the home replica: /train
	// always reaches r1, which says so.
	for range 3 {
		res, err := http.Get(url + "/train")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(page), `data-testid="train-replica"`) || !strings.Contains(string(page), "server, r1:") {
			t.Fatalf("GET /train through the proxy: %s, not the home replica's page", res.Status)
		}
	}

	// Round robin: the page's requests spread over the replicas.
	b := newBrowserAt(t, url, 1280, 900)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 5*time.Minute)
	defer cancel()
	b.ctx = ctx
	b.do("count websockets", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		script := `window.__sockets = [];
			const Real = window.WebSocket;
			window.WebSocket = class extends Real { constructor(...a) { super(...a); window.__sockets.push(this); } };`
		return chromedp.Void{}, tg.Call(ctx, "Page.addScriptToEvaluateOnNewDocument", map[string]any{"source": script}, nil)
	})
	b.do("load the page", chromedp.Navigate(url+"/?model=lenet5-fashion-mnist"), poll(doneJS), poll(readyJS))
	b.do("upload a picture", chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="upload-input"]`), []string{paperPNG(t)}),
		poll(`new URLSearchParams(location.search).get('upload') && `+doneJS+` && `+readyJS))
	upload := eval[string](b, `new URLSearchParams(location.search).get('upload')`)
	b.clickMap("c3", 2)
	b.projected("c3", 2, "map 2")
	server := func() string { return eval[string](b, `document.querySelector('[data-testid="app"]').dataset.server`) }
	home := server()
	var victim *replica
	for _, r := range replicas {
		if r.name == home {
			victim = r
		}
	}
	if victim == nil {
		t.Fatalf("the page names its server %q, none of the replicas", home)
	}

	// Kill the page's replica: it reconnects to another, sends its
	// picture again and runs it; the projection works again.
	killed := time.Now()
	victim.stop(t, syscall.SIGKILL)
	b.do("reconnect elsewhere", poll(`document.querySelector('[data-testid="app"]').dataset.server !== '`+home+`' && `+doneJS+` && `+readyJS))
	back := time.Since(killed)
	if got := eval[string](b, `new URLSearchParams(location.search).get('upload')`); got != upload {
		t.Errorf("after the reconnection the page shows upload %q, want %q", got, upload)
	}
	if note := b.text(`[data-testid="input-note"]`); !strings.Contains(note, "your picture") {
		t.Errorf("after the reconnection the input note says %q", note)
	}
	b.clickMap("c3", 2)
	b.projected("c3", 2, "map 2")
	t.Logf("killed %s under the page: running again on %s after %s", home, server(), back.Round(time.Millisecond))
	victim.start(t, bin)

	// A rolling restart (SIGTERM, start, wait until it serves), one
	// replica at a time, while the page stays open.
	for _, r := range replicas {
		r.stop(t, syscall.SIGTERM)
		r.start(t, bin)
	}
	// The page's replica went away too: a third connection at least.
	b.do("run after the rolling restart", poll(`window.__sockets.length >= 3 && window.__sockets.at(-1).readyState === 1 && `+doneJS+` && `+readyJS))
	b.clickMap("c1", 1)
	b.projected("c1", 1, "map 1")
	if got := eval[string](b, `new URLSearchParams(location.search).get('upload')`); got != upload {
		t.Errorf("after the rolling restart the page shows upload %q, want %q", got, upload)
	}
	// Every replica served the page's files: no stickiness.
	for _, r := range replicas {
		if !strings.Contains(r.log.String(), "path=/static/") {
			t.Errorf("%s served none of the page's files", r.name)
		}
	}
}
