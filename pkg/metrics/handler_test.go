package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minilet/minilet/pkg/runtime"
	v1 "k8s.io/api/core/v1"
)

type healthFunc func(ctx context.Context) error

func (f healthFunc) Healthy(ctx context.Context) error { return f(ctx) }

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestHealthz(t *testing.T) {
	for _, tc := range []struct {
		name     string
		check    HealthChecker
		wantCode int
		wantBody string
	}{
		{"no checker", nil, http.StatusOK, "ok"},
		{"healthy", healthFunc(func(context.Context) error { return nil }), http.StatusOK, "ok"},
		{"unhealthy", healthFunc(func(context.Context) error {
			return errors.New("containerd: " + runtime.ErrUnavailable.Error())
		}), http.StatusServiceUnavailable, "unhealthy: containerd: runtime unavailable\n"},
		{"check gets a deadline", healthFunc(func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				return errors.New("no deadline")
			}
			return nil
		}), http.StatusOK, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, Handler(prometheusRegistry(t), tc.check, false), "/healthz")
			if code != tc.wantCode || body != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", code, body, tc.wantCode, tc.wantBody)
			}
		})
	}
}

// TestHealthzTimeout checks that a check which ignores its context still
// cannot hold /healthz past the timeout.
func TestHealthzTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	h := healthzHandler{timeout: 50 * time.Millisecond, check: healthFunc(func(context.Context) error {
		<-release
		return nil
	})}
	start := time.Now()
	code, body := get(t, h, "/healthz")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "deadline exceeded") {
		t.Errorf("got %d %q", code, body)
	}
}

func TestHandlerPprof(t *testing.T) {
	reg := prometheusRegistry(t)
	if code, _ := get(t, Handler(reg, nil, false), "/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("pprof off: /debug/pprof/ got %d", code)
	}
	h := Handler(reg, nil, true)
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline"} {
		if code, _ := get(t, h, p); code != http.StatusOK {
			t.Errorf("pprof on: %s got %d", p, code)
		}
	}
}

// populated makes a Metrics with a series in every metric.
func populated(t *testing.T) http.Handler {
	t.Helper()
	pods := podList{
		{Status: v1.PodStatus{Phase: v1.PodRunning,
			InitContainerStatuses: statuses(terminated),
			ContainerStatuses:     statuses(running, waiting)}},
	}
	m, reg := newTest(t, pods)
	m.ContainerRestarted("default", "web", "app", "OOMKilled")
	m.ObserveProbe("default", "web", "app", "Liveness", ProbeFailed, 3*time.Millisecond)
	m.ObservePodStart(2 * time.Second)
	m.ManifestError()
	rt := m.InstrumentRuntime(&fakeRuntime{pulled: true, errs: map[string]error{opPing: runtime.ErrUnavailable}})
	callAll(t, rt)
	return Handler(reg, nil, false)
}

func TestMetricsEndpoint(t *testing.T) {
	code, body := get(t, populated(t), "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	for _, want := range []string{
		`minilet_build_info{goversion="go`,
		`minilet_pods{phase="Running"} 1`,
		`minilet_containers{state="waiting"} 1`,
		`minilet_container_restarts_total{container="app",namespace="default",pod="web",reason="OOMKilled"} 1`,
		`minilet_probe_total{container="app",namespace="default",pod="web",probe_type="Liveness",result="failed"} 1`,
		`minilet_probe_duration_seconds_count{probe_type="Liveness"} 1`,
		`minilet_pod_start_duration_seconds_count 1`,
		`minilet_manifest_errors_total 1`,
		`minilet_runtime_operations_duration_seconds_count{operation="start_container"} 1`,
		`minilet_runtime_operations_errors_total{operation="ping"} 1`,
		`minilet_image_pull_duration_seconds_count 1`,
		`go_goroutines `,
		`process_start_time_seconds `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (apt-get install prometheus)")
	}
	srv := httptest.NewServer(populated(t))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
