package httpserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// Operations endpoints.
const (
	// HealthzPath answers 200 with a small JSON status while the server serves.
	HealthzPath = "/healthz"
	// MetricsPath serves Prometheus metrics: requests by route, their latency, the
	// job queue and the training throughput.
	MetricsPath = "/metrics"
)

// metrics holds the server's Prometheus collectors, in a registry of its own (not
// the global one), so that two servers in one process, as in tests, do not clash.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	// The route is the ServeMux pattern that matched ("GET /api/jobs/{id}"), never
	// the raw path: the label's values stay few whatever clients ask for.
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ganomaly_http_requests_total", Help: "HTTP requests by route, method and status code.",
	}, []string{"route", "method", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ganomaly_http_request_duration_seconds", Help: "Time to answer a request, by route (event streams: their whole life).",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
	}, []string{"route"})
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ganomaly_models", Help: "Models the server offers, the embedded default included.",
	}, func() float64 { return float64(len(s.catalog.list())) }))
	if s.jobs != nil {
		jobsByState := func(state api.JobState) func() float64 {
			return func() float64 {
				n := 0
				for _, j := range s.jobs.List() {
					if j.State == state {
						n++
					}
				}
				return float64(n)
			}
		}
		m.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ganomaly_jobs_queued", Help: "Training jobs waiting to run."}, jobsByState(api.JobQueued)),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ganomaly_jobs_running", Help: "Training jobs running (0 or 1)."}, jobsByState(api.JobRunning)),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "ganomaly_training_images_per_second", Help: "Throughput of the running training job (0 when none runs).",
			}, func() float64 {
				for _, j := range s.jobs.List() {
					if j.State == api.JobRunning {
						return j.Progress.ImagesPerSecond
					}
				}
				return 0
			}),
		)
	}
	return m
}

// observe counts a finished request.
func (m *metrics) observe(r *http.Request, status int, took time.Duration) {
	route := r.Pattern
	if route == "" {
		route = "other"
	}
	m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(took.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// healthz answers that the server is up, with what it serves.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"status": "ok", "version": s.opts.Version, "app_version": s.web.Version(), "training": s.jobs != nil,
	})
}
