// Package metrics is what the server tells a monitoring system, in
// Prometheus' text format at GET /metrics (github.com/prometheus/client_golang):
// sessions open, runs and projections by model and method with their
// latency, the pass budget's line and memory, uploads accepted and refused
// by reason, training steps, and the Go runtime's and the process's own.
// The rooms call its methods as things happen; a nil *Metrics counts
// nothing, so tests and tools need none.
package metrics

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the server's collectors in a registry of its own.
type Metrics struct {
	registry      *prometheus.Registry
	runs          *prometheus.HistogramVec
	projections   *prometheus.HistogramVec
	queueWait     prometheus.Histogram
	uploads       *prometheus.CounterVec
	trainingSteps prometheus.Counter
	trainingSpeed prometheus.Gauge
}

// latencyBuckets spread from a LeNet-5 run (a few ms) to a long
// attribution on VGG-16 (a minute), in seconds.
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// New makes the collectors, with the Go runtime's and the process's.
func New() *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.runs = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "convscope_run_seconds", Help: "Time from a run request to its prediction (every layer streamed), by model.",
		Buckets: latencyBuckets}, []string{"model"})
	m.projections = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "convscope_projection_seconds", Help: "Time to answer a projection (an attribution), by model and method.",
		Buckets: latencyBuckets}, []string{"model", "method"})
	m.queueWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "convscope_queue_wait_seconds", Help: "Time a run waited for its share of the pass memory budget (0 when it fitted at once).",
		Buckets: []float64{0, .01, .1, .5, 1, 2.5, 5, 10, 30}})
	m.uploads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "convscope_uploads_total", Help: "Files sent (kind picture or model), accepted or refused by reason."},
		[]string{"kind", "result", "reason"})
	m.trainingSteps = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "convscope_training_steps_total", Help: "Optimizer steps taken by the training page's runs (rate() is steps per second)."})
	m.trainingSpeed = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "convscope_training_images_per_second", Help: "The running training's latest speed, images per second (0 when none runs)."})
	m.registry.MustRegister(m.runs, m.projections, m.queueWait, m.uploads, m.trainingSteps, m.trainingSpeed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Gauge adds a gauge whose value is read from value at each scrape (a
// count the room keeps already: sessions open, bytes in use).
func (m *Metrics) Gauge(name, help string, value func() float64) {
	if m == nil {
		return
	}
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, value))
}

// Info adds a gauge that is always 1 and says what its labels say (the
// build's version and commit): Prometheus' idiom for facts.
func (m *Metrics) Info(name, help string, labels map[string]string) {
	if m == nil {
		return
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels})
	g.Set(1)
	m.registry.MustRegister(g)
}

// ModelLabel is the label a model is counted under: its catalog name, or
// "own" for every visitor's own model (named by their files' hashes,
// which would make a label per upload).
func ModelLabel(name string) string {
	if strings.HasPrefix(name, "own-") {
		return "own"
	}
	return name
}

// Run counts a run of model that reached its prediction after took.
func (m *Metrics) Run(model string, took time.Duration) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(ModelLabel(model)).Observe(took.Seconds())
}

// Projection counts a projection of model by method answered after took.
func (m *Metrics) Projection(model, method string, took time.Duration) {
	if m == nil {
		return
	}
	m.projections.WithLabelValues(ModelLabel(model), method).Observe(took.Seconds())
}

// QueueWait counts a run admitted to the pass budget after waiting d.
func (m *Metrics) QueueWait(d time.Duration) {
	if m == nil {
		return
	}
	m.queueWait.Observe(d.Seconds())
}

// Upload counts a file of kind ("picture" or "model") accepted (status
// 200) or refused with an HTTP status, counted by its reason.
func (m *Metrics) Upload(kind string, status int) {
	if m == nil {
		return
	}
	result, reason := "refused", Reason(status)
	if status == http.StatusOK {
		result = "accepted"
	}
	m.uploads.WithLabelValues(kind, result, reason).Inc()
}

// Reason names an upload's HTTP status as a label: "" for accepted.
func Reason(status int) string {
	switch status {
	case http.StatusOK:
		return ""
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusRequestTimeout:
		return "too_slow"
	case http.StatusUnsupportedMediaType:
		return "wrong_type"
	case http.StatusUnprocessableEntity:
		return "unreadable"
	case http.StatusServiceUnavailable:
		return "busy"
	case http.StatusBadRequest:
		return "bad_request"
	}
	return "other"
}

// TrainingSteps counts n optimizer steps taken at imagesPerSec.
func (m *Metrics) TrainingSteps(n int, imagesPerSec float64) {
	if m == nil {
		return
	}
	m.trainingSteps.Add(float64(n))
	m.trainingSpeed.Set(imagesPerSec)
}

// TrainingStopped says no training runs now.
func (m *Metrics) TrainingStopped() {
	if m == nil {
		return
	}
	m.trainingSpeed.Set(0)
}
