package statssummary

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

func get(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestServeHTTP(t *testing.T) {
	f := newFixture(t)
	rec := get(t, f.h, http.MethodGet, "/stats/summary")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	// The kubelet's field names.
	var raw map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, path := range [][]any{
		{"node", "nodeName"}, {"node", "startTime"}, {"node", "cpu", "usageCoreNanoSeconds"},
		{"node", "memory", "workingSetBytes"}, {"node", "memory", "availableBytes"}, {"node", "memory", "rssBytes"},
		{"node", "memory", "pageFaults"}, {"node", "memory", "majorPageFaults"}, {"node", "memory", "usageBytes"},
		{"node", "network", "name"}, {"node", "network", "rxBytes"}, {"node", "network", "txErrors"},
		{"node", "network", "interfaces", 0, "name"}, {"node", "fs", "capacityBytes"}, {"node", "fs", "inodesUsed"},
		{"node", "runtime", "imageFs", "availableBytes"}, {"node", "runtime", "containerFs", "inodesFree"},
		{"node", "rlimit", "maxpid"}, {"node", "rlimit", "curproc"},
		{"pods", 0, "podRef", "name"}, {"pods", 0, "podRef", "namespace"}, {"pods", 0, "podRef", "uid"},
		{"pods", 0, "startTime"}, {"pods", 0, "cpu", "time"}, {"pods", 0, "network", "rxErrors"},
		{"pods", 0, "process_stats", "process_count"},
		{"pods", 0, "containers", 0, "name"}, {"pods", 0, "containers", 0, "startTime"},
		{"pods", 0, "containers", 0, "memory", "workingSetBytes"}, {"pods", 0, "containers", 0, "logs", "usedBytes"},
	} {
		var v any = raw
		for _, k := range path {
			switch k := k.(type) {
			case string:
				m, _ := v.(map[string]any)
				v = m[k]
			case int:
				l, _ := v.([]any)
				if k < len(l) {
					v = l[k]
				} else {
					v = nil
				}
			}
		}
		if v == nil {
			t.Errorf("no %v in %s", path, rec.Body)
		}
	}
	// Decoded as the API's type, it is the summary (times in seconds).
	var got statsapi.Summary
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if dump(got) != dump(want(t0, 0, rates{})) {
		t.Errorf("decoded %s", dump(got))
	}

	// only_cpu_and_memory, a second later: the rate is there.
	f.now = t0.Add(time.Second)
	f.addCPU(500 * time.Millisecond)
	rec = get(t, f.h, http.MethodGet, "/stats/summary?only_cpu_and_memory=true")
	got = statsapi.Summary{}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	half := u64(500000000)
	if w := cpuAndMemoryOnly(want(f.now, 5e8, rates{half, half, half, half})); dump(got) != dump(w) {
		t.Errorf("only cpu and memory: got %s\nwant %s", dump(got), dump(w))
	}
	if got.Node.Network != nil || got.Pods[0].Containers[0].Logs != nil || *got.Pods[0].CPU.UsageNanoCores != 500000000 {
		t.Errorf("only cpu and memory: %s", rec.Body)
	}

	if rec := get(t, f.h, http.MethodPost, "/stats/summary"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", rec.Code)
	}
}

func TestOnlyCPUAndMemory(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  bool
	}{
		{"", false},
		{"only_cpu_and_memory=true", true},
		{"only_cpu_and_memory=false", false},
		{"only_cpu_and_memory=1", false},
		{"only_cpu_and_memory=true&only_cpu_and_memory=true", false},
	} {
		q, _ := url.ParseQuery(tc.query)
		if got := onlyCPUAndMemory(q); got != tc.want {
			t.Errorf("%q: %v", tc.query, got)
		}
	}
}
