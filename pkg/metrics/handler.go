package metrics

import (
	"context"
	"fmt"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HealthTimeout bounds one /healthz check.
const HealthTimeout = 5 * time.Second

// HealthChecker is what /healthz asks. Healthy returns nil when the daemon
// works (the runtime answers, the sync loop is not stuck) and otherwise an
// error saying what is wrong.
type HealthChecker interface {
	Healthy(ctx context.Context) error
}

// Handler serves /metrics from g, /healthz from health (nil: always
// healthy) and, when pprof is true, the runtime profiles under
// /debug/pprof/.
func Handler(g prometheus.Gatherer, health HealthChecker, pprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.Handle("/healthz", healthzHandler{check: health, timeout: HealthTimeout})
	if pprof {
		HandlePprof(mux)
	}
	return mux
}

// HandlePprof serves net/http/pprof's handlers on mux under
// /debug/pprof/, never on http.DefaultServeMux.
func HandlePprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}

// healthzHandler answers 200 "ok" when check passes within timeout and 503
// with the error otherwise. A check that ignores its context still cannot
// hold the request past timeout.
type healthzHandler struct {
	check   HealthChecker
	timeout time.Duration
}

func (h healthzHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := h.run(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "unhealthy: %v\n", err)
		return
	}
	fmt.Fprint(w, "ok")
}

func (h healthzHandler) run(ctx context.Context) error {
	if h.check == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	done := make(chan error, 1) // buffered: a late check must not leak blocked
	go func() { done <- h.check.Healthy(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("health check did not finish: %w", ctx.Err())
	}
}
