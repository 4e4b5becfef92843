package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/train/recipe"
	"github.com/convscope/convscope/web"
	"github.com/convscope/convscope/web/metrics"
	"github.com/convscope/convscope/web/session"
	"github.com/convscope/convscope/web/training"
)

// scrape reads GET /metrics as Prometheus would.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", res.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus' text format: %v", err)
	}
	return families
}

// value is a sample's value (a histogram's count) under labels (name,
// value pairs; a sample with other labels too matches).
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		return 0
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || l.GetName() == labels[i] && l.GetValue() == labels[i+1]
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		}
	}
	return 0
}

// metricsSocket is one page's websocket in the metrics test.
type metricsSocket struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialMetrics(t *testing.T, url string) *metricsSocket {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &metricsSocket{t: t, conn: conn}
	s.until("hello")
	return s
}

// until reads messages up to the first JSON one of type typ, and returns it.
func (s *metricsSocket) until(typ string) map[string]any {
	s.t.Helper()
	for {
		_ = s.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		kind, b, err := s.conn.ReadMessage()
		if err != nil {
			s.t.Fatalf("waiting for %s: %v", typ, err)
		}
		if kind != websocket.TextMessage {
			continue
		}
		var msg map[string]any
		if err := json.Unmarshal(b, &msg); err != nil {
			s.t.Fatal(err)
		}
		if msg["type"] == typ {
			return msg
		}
	}
}

func (s *metricsSocket) send(msg string) {
	s.t.Helper()
	if err := s.conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		s.t.Fatal(err)
	}
}

func (s *metricsSocket) sendFile(announce string, body []byte) {
	s.t.Helper()
	s.send(announce)
	if err := s.conn.WriteMessage(websocket.BinaryMessage, body); err != nil {
		s.t.Fatal(err)
	}
}

// GET /metrics is scraped as Prometheus would, and each metric moves when
// its event happens: a session opens, runs and projections are timed, a
// run waits in line for the pass budget, pictures and models are accepted
// or refused, a training run steps.
func TestMetricsMoveWithTheirEvents(t *testing.T) {
	met := metrics.New()
	var runs *training.Manager
	var passCost int64
	h, _ := newRouterWith(t, func(d *web.Deps) {
		d.Metrics, d.AllowModelUpload = met, true
		// Room for one LeNet-5 pass: a second page's run waits in line.
		m, err := d.Catalog.Open("lenet5-fashion-mnist")
		if err != nil {
			t.Fatal(err)
		}
		passCost = session.PassCost(m.Summary)
		d.Catalog.Release(m)
		d.PassMemory = passCost
		runs, err = training.NewManager(t.TempDir(), "", d.Catalog, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		d.Training = runs
	})
	t.Cleanup(runs.Close)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	before := scrape(t, srv.URL)
	for _, name := range []string{"convscope_sessions_open", "convscope_queue_length", "convscope_pass_memory_bytes",
		"convscope_pass_memory_limit_bytes", "convscope_training_queue_length", "go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := before[name]; !ok {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if v := value(t, before, "convscope_pass_memory_limit_bytes"); v != float64(passCost) {
		t.Errorf("pass memory limit %g, want %d", v, passCost)
	}

	a := dialMetrics(t, srv.URL)
	if v := value(t, scrape(t, srv.URL), "convscope_sessions_open"); v != 1 {
		t.Errorf("sessions open with one page: %g", v)
	}
	a.send(`{"type":"run","model":"lenet5-fashion-mnist","sample":"fashion-mnist/00-ankle-boot.png"}`)
	a.until("prediction")
	a.send(`{"type":"project","layer":"c3","channel":2}`)
	a.until("projection")
	now := scrape(t, srv.URL)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"convscope_run_seconds", []string{"model", "lenet5-fashion-mnist"}, 1},
		{"convscope_projection_seconds", []string{"model", "lenet5-fashion-mnist", "method", "deconvnet"}, 1},
		{"convscope_queue_wait_seconds", nil, 1},
		{"convscope_pass_memory_bytes", nil, float64(passCost)},
	} {
		if v := value(t, now, c.name, c.labels...); v != c.want {
			t.Errorf("%s%v after a run and a projection: %g, want %g", c.name, c.labels, v, c.want)
		}
	}

	// Pictures and models, accepted and refused by reason.
	paper, err := os.ReadFile(paperPNG(t))
	if err != nil {
		t.Fatal(err)
	}
	a.sendFile(`{"type":"upload"}`, paper)
	a.until("uploaded")
	a.sendFile(`{"type":"upload"}`, []byte("not a picture"))
	a.until("error")
	if rec := serve(h, "POST", "/upload", bytes.NewReader(make([]byte, 6<<20))); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 6 MB POST: %d", rec.Code)
	}
	pth, err := os.ReadFile("../zoo/testdata/lenet5.pth")
	if err != nil {
		t.Fatal(err)
	}
	a.sendFile(`{"type":"own-model","file":"mine.pth"}`, pth)
	a.until("own-model")
	a.sendFile(`{"type":"own-model","file":"notes.txt"}`, pth)
	a.until("error")
	now = scrape(t, srv.URL)
	for _, c := range [][]string{
		{"picture", "accepted", ""}, {"picture", "refused", "wrong_type"}, {"picture", "refused", "too_large"},
		{"model", "accepted", ""}, {"model", "refused", "wrong_type"},
	} {
		if v := value(t, now, "convscope_uploads_total", "kind", c[0], "result", c[1], "reason", c[2]); v != 1 {
			t.Errorf("uploads %v: %g, want 1", c, v)
		}
	}

	// A second page's run waits for the first page's pass: it is in line
	// until that page leaves, then its wait is timed.
	b := dialMetrics(t, srv.URL)
	b.send(`{"type":"run","model":"lenet5-fashion-mnist","sample":"fashion-mnist/00-ankle-boot.png"}`)
	b.until("queued")
	now = scrape(t, srv.URL)
	if v := value(t, now, "convscope_queue_length"); v != 1 {
		t.Errorf("queue length with a run waiting: %g", v)
	}
	if v := value(t, now, "convscope_sessions_open"); v != 2 {
		t.Errorf("sessions open with two pages: %g", v)
	}
	a.conn.Close()
	b.until("prediction")
	now = scrape(t, srv.URL)
	if v := value(t, now, "convscope_queue_length"); v != 0 {
		t.Errorf("queue length after the wait: %g", v)
	}
	waited := now["convscope_queue_wait_seconds"].Metric[0].Histogram
	if waited.GetSampleCount() != 2 || waited.GetSampleSum() <= 0 {
		t.Errorf("queue waits: %d, summing %gs; want 2, one of them longer than 0", waited.GetSampleCount(), waited.GetSampleSum())
	}

	// A training run's steps: LeNet-5 on 1,280 images, 20 steps.
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Log("no Fashion-MNIST: the training metrics are not checked:", err)
		return
	}
	r := recipe.Default("lenet5")
	r.Epochs, r.Limit = 1, 1280
	run, err := runs.Start(r)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for st, _, _ := run.Status(); st != training.Finished; st, _, _ = run.Status() {
		if st == training.Failed || time.Now().After(deadline) {
			t.Fatalf("the training run is %s", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	now = scrape(t, srv.URL)
	if v := value(t, now, "convscope_training_steps_total"); v != 20 {
		t.Errorf("training steps after 20: %g", v)
	}
	if v := value(t, now, "convscope_training_images_per_second"); v != 0 {
		t.Errorf("training speed with no run: %g", v)
	}
}
