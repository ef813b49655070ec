package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// TestClusterKubeletAPI: kubectl logs (with --tail and -f) and kubectl
// exec (exit codes, stdout and stderr apart, -it with the terminal's
// size) reach a pod on the minilet node through the API server and
// minilet's kubelet API, as do the resource metrics metrics-server
// scrapes, the Summary API, /runningpods/ and /debug/pprof/; that API
// refuses a client without credentials
// (401) and one the API server does not authorize (403).
func TestClusterKubeletAPI(t *testing.T) {
	p := needPlane(t)
	name := takeNodeName(t)
	d := startClusterDaemon(t, p, name)
	n := waitNode(t, p, name, 60*time.Second, "registered and Ready", nodeReadyIs(v1.ConditionTrue))
	port := n.Status.DaemonEndpoints.KubeletEndpoint.Port
	if port == 0 {
		t.Fatalf("no kubelet port in the node's status: %+v", n.Status.DaemonEndpoints)
	}

	kubectl(t, p, "run", "talker", "--image="+BusyboxImage, "--", "sh", "-c", "for i in 1 2 3 4 5; do echo line $i; done; exec sleep 3600")
	t.Cleanup(func() { _, _ = p.Kubectl(context.Background(), "delete", "pod", "talker", "--wait=false") })
	waitAPIPods(t, p, "run=talker", 1, 90*time.Second)

	d.eventually(30*time.Second, "kubectl logs", func() error {
		out, err := p.Kubectl(t.Context(), "logs", "talker")
		if err != nil || !strings.Contains(out, "line 5") {
			return fmt.Errorf("%q %v", out, err)
		}
		return nil
	})
	if out := kubectl(t, p, "logs", "talker", "--tail=2"); out != "line 4\nline 5\n" {
		t.Errorf("logs --tail=2: %q", out)
	}

	// -f: a line written later arrives.
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	follow := exec.CommandContext(ctx, p.KubectlPath(), "--kubeconfig="+p.AdminKubeconfig, "logs", "-f", "talker")
	stdout, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = follow.Process.Kill(); _ = follow.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine(t, lines, "line 5")
	kubectl(t, p, "exec", "talker", "--", "sh", "-c", "echo written-later > /proc/1/fd/1")
	waitLine(t, lines, "written-later")

	// exec: exit code, stdout and stderr apart.
	cmd := exec.Command(p.KubectlPath(), "--kubeconfig="+p.AdminKubeconfig, "exec", "talker", "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 3")
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || so.String() != "to-out\n" || !strings.Contains(se.String(), "to-err") {
		t.Errorf("exec: %v, stdout %q, stderr %q", err, so.String(), se.String())
	}
	// -it under a 40x100 terminal.
	script := exec.Command("script", "-qec", fmt.Sprintf("stty cols 100 rows 40; %s --kubeconfig=%s exec -it talker -- sh -c 'tty; stty size'", p.KubectlPath(), p.AdminKubeconfig), "/dev/null")
	keepOpen, err := script.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer keepOpen.Close()
	b, err := script.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "/dev/pts/") || !strings.Contains(string(b), "40 100") {
		t.Errorf("exec -it: %v, out %q", err, b)
	}

	// Resource metrics, as metrics-server scrapes them through the API
	// server: the node's and the pod's CPU and memory from the cgroups.
	res := kubectl(t, p, "get", "--raw", "/api/v1/nodes/"+name+"/proxy/metrics/resource")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^node_memory_working_set_bytes [0-9.e+]+ \d+$`),
		regexp.MustCompile(`(?m)^node_cpu_usage_seconds_total [0-9.e+]+ \d+$`),
		regexp.MustCompile(`(?m)^container_cpu_usage_seconds_total\{container="talker",namespace="default",pod="talker"\} [0-9.e+-]+ \d+$`),
		regexp.MustCompile(`(?m)^container_memory_working_set_bytes\{container="talker",namespace="default",pod="talker"\} [1-9][0-9.e+]* \d+$`),
		regexp.MustCompile(`(?m)^pod_memory_working_set_bytes\{namespace="default",pod="talker"\} [1-9][0-9.e+]* \d+$`),
	} {
		if !want.MatchString(res) {
			t.Errorf("/metrics/resource has no line matching %s:\n%s", want, res)
		}
	}

	// The Summary API: the node's and the pods' use, as monitoring agents
	// read it; CPU rates from the second request on.
	summary := func() statsapi.Summary {
		t.Helper()
		var sum statsapi.Summary
		if err := json.Unmarshal([]byte(kubectl(t, p, "get", "--raw", "/api/v1/nodes/"+name+"/proxy/stats/summary")), &sum); err != nil {
			t.Fatalf("/stats/summary: %v", err)
		}
		return sum
	}
	summary()
	sum := summary()
	if n := sum.Node; n.NodeName != name || n.CPU == nil || n.CPU.UsageNanoCores == nil || n.CPU.UsageCoreNanoSeconds == nil || *n.CPU.UsageCoreNanoSeconds == 0 ||
		n.Memory == nil || n.Memory.WorkingSetBytes == nil || *n.Memory.WorkingSetBytes == 0 || n.Fs == nil || n.Fs.CapacityBytes == nil || *n.Fs.CapacityBytes == 0 ||
		n.Runtime == nil || n.Runtime.ImageFs == nil || n.Rlimit == nil {
		t.Errorf("/stats/summary node: %+v", n)
	}
	var talker *statsapi.PodStats
	for i := range sum.Pods {
		if sum.Pods[i].PodRef.Name == "talker" {
			talker = &sum.Pods[i]
		}
	}
	if talker == nil || talker.CPU == nil || talker.Memory == nil || talker.Memory.WorkingSetBytes == nil || *talker.Memory.WorkingSetBytes == 0 ||
		len(talker.Containers) != 1 || talker.Containers[0].Name != "talker" || talker.Containers[0].CPU == nil ||
		talker.Network == nil || talker.Network.Name != "eth0" || talker.Network.RxBytes == nil {
		t.Errorf("/stats/summary has no full entry for talker: %+v", talker)
	}

	// The pods the node runs, as the runtime sees them, and Go's
	// profiles, as the kubelet's debugging handlers serve them.
	var running v1.PodList
	if err := json.Unmarshal([]byte(kubectl(t, p, "get", "--raw", "/api/v1/nodes/"+name+"/proxy/runningpods/")), &running); err != nil {
		t.Errorf("/runningpods/: %v", err)
	} else if !hasRunningContainer(running.Items, "talker", "talker") {
		t.Errorf("/runningpods/ has no talker container: %+v", running.Items)
	}
	if out := kubectl(t, p, "get", "--raw", "/api/v1/nodes/"+name+"/proxy/debug/pprof/goroutine?debug=1"); !strings.Contains(out, "goroutine profile:") {
		t.Errorf("/debug/pprof/goroutine: %.200q", out)
	}

	// The kubelet API itself: no credentials, 401; a service account with
	// no rights on nodes/proxy, 403.
	insecure := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	url := fmt.Sprintf("https://127.0.0.1:%d/pods", port)
	if resp, err := insecure.Get(url); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no credentials: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	token := strings.TrimSpace(kubectl(t, p, "create", "token", "default"))
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := insecure.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("service account without rights: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// hasRunningContainer reports whether pods hold pod with container.
func hasRunningContainer(pods []v1.Pod, pod, container string) bool {
	for _, p := range pods {
		for _, c := range p.Spec.Containers {
			if p.Name == pod && c.Name == container && c.Image != "" && p.UID != "" {
				return true
			}
		}
	}
	return false
}

// waitLine reads lines until one contains want.
func waitLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before %q", want)
			}
			if strings.Contains(l, want) {
				return
			}
		case <-deadline:
			t.Fatalf("no line %q after 30 s", want)
		}
	}
}
