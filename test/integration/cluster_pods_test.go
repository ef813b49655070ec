package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/internal/testcontrolplane"
)

// TestClusterAPIPods: pods the scheduler binds to the minilet node run
// there: a Deployment's three replicas Running and Ready with the
// statuses the API shows matching the pods' (IP, host IP, QoS), their
// service account volume written (token from the TokenRequest API, the
// cluster's CA, the namespace); `kubectl delete pod` stops the pod with
// its grace period before the pod leaves the API, and the Deployment
// makes another; a ConfigMap edited with kubectl changes the file in a
// running pod.
func TestClusterAPIPods(t *testing.T) {
	p := needPlane(t)
	name := takeNodeName(t)
	d := startClusterDaemon(t, p, name)
	waitNode(t, p, name, 60*time.Second, "registered and Ready", nodeReadyIs(v1.ConditionTrue))

	kubectl(t, p, "create", "deployment", "web", "--image="+BusyboxImage, "--replicas=3", "--", "sleep", "3600")
	t.Cleanup(func() { _, _ = p.Kubectl(t.Context(), "delete", "deployment", "web", "--wait=false") })
	pods := waitAPIPods(t, p, "app=web", 3, 120*time.Second)
	for _, ap := range pods {
		local, err := d.pod("default", ap.Name)
		if err != nil {
			t.Fatalf("pod %s is not on the node: %v", ap.Name, err)
		}
		if ap.Status.PodIP == "" || ap.Status.PodIP != local.Status.PodIP || ap.Status.HostIP == "" || ap.Status.QOSClass != v1.PodQOSBestEffort || ap.Status.StartTime == nil {
			t.Errorf("pod %s: API status %+v, local IP %s", ap.Name, ap.Status, local.Status.PodIP)
		}
		if ap.Spec.NodeName != name {
			t.Errorf("pod %s on %q", ap.Name, ap.Spec.NodeName)
		}
		// Its token was asked for before its volume was set up.
		for _, e := range d.events(ap.Name) {
			if e.Reason == "FailedMount" {
				t.Errorf("pod %s: %s: %s", ap.Name, e.Reason, e.Message)
			}
		}
	}

	// The service account volume the API server's admission added.
	first := pods[0].Name
	sa := "/var/run/secrets/kubernetes.io/serviceaccount"
	if out := d.cli("exec", first, "--", "cat", sa+"/namespace"); out != "default" {
		t.Errorf("namespace file %q", out)
	}
	if out := d.cli("exec", first, "--", "sh", "-c", "wc -c < "+sa+"/token"); strings.TrimSpace(out) == "0" {
		t.Error("empty token")
	}
	if out := d.cli("exec", first, "--", "cat", sa+"/ca.crt"); !strings.Contains(out, "BEGIN CERTIFICATE") {
		t.Errorf("ca.crt %q", out)
	}
	// The token is the pod's: the API server says who it is.
	token := d.cli("exec", first, "--", "cat", sa+"/token")
	ctx := t.Context()
	out, err := p.Kubectl(ctx, "--token="+token, "--kubeconfig=/dev/null", "--server="+p.URL, "--insecure-skip-tls-verify", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
	if err != nil || out != "system:serviceaccount:default:default" {
		t.Errorf("token of %s: %q %v", first, out, err)
	}

	// A graceful delete: the container (sleep, deaf to SIGTERM) is killed
	// when the 3 s run out, then the pod leaves the API.
	local, _ := d.pod("default", first)
	_, byName := d.pids(local)
	start := time.Now()
	kubectl(t, p, "delete", "pod", first, "--grace-period=3", "--wait=true", "--timeout=60s")
	took := time.Since(start)
	if took < 3*time.Second {
		t.Errorf("the pod left the API %s after the delete, before its grace period", took)
	}
	if processAlive(byName["web"]) {
		t.Error("the pod's container runs on after the delete")
	}
	t.Logf("delete with grace 3 s took %s", took.Round(10*time.Millisecond))
	d.waitGone(first, 30*time.Second)
	waitAPIPods(t, p, "app=web", 3, 120*time.Second)

	// A ConfigMap edited with kubectl changes the file in the pod.
	kubectl(t, p, "create", "configmap", "cfg", "--from-literal=greeting=hello")
	manifest := filepath.Join(t.TempDir(), "reader.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Pod
metadata: {name: reader, labels: {app: reader}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: `+BusyboxImage+`
    command: ["sleep", "3600"]
    env: [{name: GREETING, valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}}]
    volumeMounts: [{name: cfg, mountPath: /cfg}]
  volumes: [{name: cfg, configMap: {name: cfg}}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	kubectl(t, p, "apply", "-f", manifest)
	t.Cleanup(func() { _, _ = p.Kubectl(t.Context(), "delete", "pod", "reader", "--wait=false") })
	waitAPIPods(t, p, "app=reader", 1, 60*time.Second)
	if out := strings.TrimSpace(d.cli("exec", "reader", "--", "sh", "-c", "cat /cfg/greeting; echo; echo $GREETING")); out != "hello\nhello" {
		t.Errorf("configmap in the pod: %q", out)
	}
	kubectl(t, p, "patch", "configmap", "cfg", "-p", `{"data":{"greeting":"bonjour"}}`)
	d.eventually(60*time.Second, "the edited ConfigMap in the pod's volume", func() error {
		out, err := d.cliErr("exec", "reader", "--", "cat", "/cfg/greeting")
		if err != nil || out != "bonjour" {
			return fmt.Errorf("%q %v", out, err)
		}
		return nil
	})
}

// waitAPIPods waits until the API server has n pods with the label
// selector, all Running and Ready, and returns them.
func waitAPIPods(t *testing.T, p *testcontrolplane.Plane, selector string, n int, timeout time.Duration) []v1.Pod {
	t.Helper()
	l := waitAPIObject(t, p, fmt.Sprintf("pods %s: %d Running and Ready", selector, n), timeout, func(l *v1.PodList) error {
		ok := 0
		for _, pod := range l.Items {
			if pod.DeletionTimestamp == nil && pod.Status.Phase == v1.PodRunning && isReady(&pod) {
				ok++
			}
		}
		if ok != n || len(l.Items) != n {
			return fmt.Errorf("%d of %d pods Running and Ready", ok, len(l.Items))
		}
		return nil
	}, "get", "pods", "-l", selector)
	return l.Items
}

// TestClusterAdmission: pods bound to the minilet node past the scheduler
// (spec.nodeName set) are admitted as the kubelet admits them: one that
// asks for more cpu than the node has, or whose nodeSelector the node
// does not match, is Failed in the API with the kubelet's reason
// (OutOfcpu, NodeAffinity) and runs nothing; one that fits runs.
func TestClusterAdmission(t *testing.T) {
	p := needPlane(t)
	name := takeNodeName(t)
	d := startClusterDaemon(t, p, name)
	waitNode(t, p, name, 60*time.Second, "registered and Ready", nodeReadyIs(v1.ConditionTrue))
	path := filepath.Join(t.TempDir(), "pods.yaml")
	pod := func(podName, spec, resources string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, labels: {app: admission}}
spec:
  nodeName: %s
  terminationGracePeriodSeconds: 0%s
  containers: [{name: main, image: %s, command: ["sleep", "3600"]%s}]
`, podName, name, spec, BusyboxImage, resources)
	}
	manifests := strings.Join([]string{
		pod("greedy", "", `, resources: {requests: {cpu: "1000"}}`),
		pod("picky", "\n  nodeSelector: {disk: none-here}", ""),
		pod("modest", "", `, resources: {requests: {cpu: "10m"}}`),
	}, "---\n")
	if err := os.WriteFile(path, []byte(manifests), 0o644); err != nil {
		t.Fatal(err)
	}
	kubectl(t, p, "apply", "-f", path)
	t.Cleanup(func() { _, _ = p.Kubectl(t.Context(), "delete", "-f", path, "--wait=false") })
	for podName, reason := range map[string]string{"greedy": "OutOfcpu", "picky": "NodeAffinity"} {
		got := waitAPIObject(t, p, podName+" refused", 60*time.Second, func(ap *v1.Pod) error {
			if ap.Status.Phase != v1.PodFailed || ap.Status.Reason != reason {
				return fmt.Errorf("phase %s reason %q message %q", ap.Status.Phase, ap.Status.Reason, ap.Status.Message)
			}
			return nil
		}, "get", "pod", podName)
		t.Logf("%s: %s: %s", podName, got.Status.Reason, got.Status.Message)
		if local, err := d.pod("default", podName); err == nil && len(local.Status.ContainerStatuses) > 0 && local.Status.ContainerStatuses[0].State.Running != nil {
			t.Errorf("%s runs: %+v", podName, local.Status.ContainerStatuses)
		}
	}
	waitAPIObject(t, p, "modest running", 60*time.Second, func(ap *v1.Pod) error {
		if ap.Status.Phase != v1.PodRunning {
			return fmt.Errorf("phase %s", ap.Status.Phase)
		}
		return nil
	}, "get", "pod", "modest")
}
