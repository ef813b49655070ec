package statssummary

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	v1 "k8s.io/api/core/v1"
)

// Handler serves the summary as JSON, reading it anew at each request.
type Handler struct {
	cfg   Config
	proc  procFS
	rates *cpuRates
}

// New returns the handler of cfg.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Name == nil {
		cfg.Name = func(p *v1.Pod) string { return p.Name }
	}
	if cfg.PodPID == nil {
		cfg.PodPID = func(*v1.Pod) uint32 { return 0 }
	}
	if cfg.Statfs == nil {
		cfg.Statfs = Statfs
	}
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = "/proc"
	}
	return &Handler{cfg: cfg, proc: procFS{root: cfg.ProcRoot}, rates: newCPURates()}
}

// ServeHTTP writes the summary (GET or HEAD); ?only_cpu_and_memory=true
// asks for the CPU and memory only, as of the kubelet.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := json.Marshal(h.Summary(onlyCPUAndMemory(r.URL.Query())))
	if err != nil {
		http.Error(w, "encode the summary: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// onlyCPUAndMemory reports whether a request's query asks for the CPU
// and memory only: a single only_cpu_and_memory=true, as the kubelet
// reads it.
func onlyCPUAndMemory(q url.Values) bool {
	v, ok := q["only_cpu_and_memory"]
	return ok && len(v) == 1 && v[0] == "true"
}
