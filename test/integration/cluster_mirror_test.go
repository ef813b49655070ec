package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/internal/testcontrolplane"
)

// TestClusterMirrorPods: every pod of the manifest directory shows in the
// API server as a mirror pod (<name>-<node>, the kubelet's annotation,
// owned by the Node) with its live status; deleting a mirror brings it
// back without touching the pod; an edited manifest gets a new mirror; a
// removed one loses it; a pod NodeRestriction will not mirror (it names a
// ConfigMap) runs regardless, and the reason is logged.
func TestClusterMirrorPods(t *testing.T) {
	p := needPlane(t)
	name := takeNodeName(t)
	d := startClusterDaemon(t, p, name)
	waitNode(t, p, name, 60*time.Second, "registered and Ready", nodeReadyIs(v1.ConditionTrue))
	node := waitNode(t, p, name, time.Second, "known", func(*v1.Node) error { return nil })

	d.writeManifest("web.yaml", sleeperPod("web", ""))
	d.writeManifest("once.yaml", `apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  restartPolicy: Never
  containers:
  - {name: main, image: `+BusyboxImage+`, command: ["sh", "-c", "exit 0"]}
`)
	d.writeManifest("cfg.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: b}
---
apiVersion: v1
kind: Pod
metadata: {name: withcfg}
spec:
  containers:
  - name: main
    image: `+BusyboxImage+`
    command: ["sleep", "3600"]
    volumeMounts: [{name: c, mountPath: /c}]
  volumes: [{name: c, configMap: {name: cfg}}]
`)
	web := d.waitPod("web", 60*time.Second, "runs", allRunning)
	webPause, _ := d.pids(web)
	mirrorName := "web-" + name
	m := waitMirror(t, p, mirrorName, 60*time.Second, "Running with the pod's IP", func(m *v1.Pod) error {
		if m.Status.Phase != v1.PodRunning || m.Status.PodIP != web.Status.PodIP || len(m.Status.ContainerStatuses) != 1 || !m.Status.ContainerStatuses[0].Ready {
			return fmt.Errorf("status %+v", m.Status)
		}
		return nil
	})
	if m.Annotations["kubernetes.io/config.mirror"] != web.Annotations["kubernetes.io/config.hash"] || m.Annotations["kubernetes.io/config.source"] != "file" {
		t.Errorf("annotations %v", m.Annotations)
	}
	if len(m.OwnerReferences) != 1 || m.OwnerReferences[0].Kind != "Node" || m.OwnerReferences[0].UID != node.UID {
		t.Errorf("owners %+v", m.OwnerReferences)
	}
	if m.Spec.NodeName != name || m.Status.HostIP == "" || m.Status.StartTime == nil {
		t.Errorf("nodeName %q hostIP %q startTime %v", m.Spec.NodeName, m.Status.HostIP, m.Status.StartTime)
	}
	waitMirror(t, p, "once-"+name, 60*time.Second, "Succeeded", func(m *v1.Pod) error {
		if m.Status.Phase != v1.PodSucceeded {
			return fmt.Errorf("phase %s", m.Status.Phase)
		}
		return nil
	})
	out := kubectl(t, p, "get", "pods", "-A", "-o", "wide")
	if !strings.Contains(out, mirrorName) || !strings.Contains(out, name) {
		t.Errorf("kubectl get pods -A:\n%s", out)
	}

	// Deleted by someone (gracefully, as kubectl does): made again.
	kubectl(t, p, "delete", "pod", mirrorName, "--wait=false")
	waitMirror(t, p, mirrorName, 60*time.Second, "made again", func(n *v1.Pod) error {
		if n.UID == m.UID || n.DeletionTimestamp != nil || n.Status.Phase != v1.PodRunning {
			return fmt.Errorf("uid %s (was %s), deleting %v, phase %s", n.UID, m.UID, n.DeletionTimestamp, n.Status.Phase)
		}
		return nil
	})
	if web = d.waitPod("web", 10*time.Second, "runs", allRunning); func() uint32 { p, _ := d.pids(web); return p }() != webPause {
		t.Error("deleting the mirror pod touched the pod")
	}

	// NodeRestriction refuses a mirror naming a ConfigMap: the pod runs.
	d.waitPod("withcfg", 60*time.Second, "runs without a mirror", allRunning)
	d.eventually(30*time.Second, "the refusal logged", func() error {
		if !strings.Contains(d.output.String(), "cannot create pod in the API server") || !strings.Contains(d.output.String(), "withcfg-"+name) {
			return fmt.Errorf("not logged")
		}
		return nil
	})

	// Edited: a new mirror for the new pod. Removed: no mirror.
	d.writeManifest("web.yaml", sleeperPod("web", "    env: [{name: V, value: \"2\"}]\n"))
	edited := d.waitPod("web", 60*time.Second, "replaced", func(p *v1.Pod) error {
		if p.UID == web.UID {
			return fmt.Errorf("not replaced yet")
		}
		return allRunning(p)
	})
	waitMirror(t, p, mirrorName, 60*time.Second, "of the edited pod", func(n *v1.Pod) error {
		if n.Annotations["kubernetes.io/config.mirror"] != edited.Annotations["kubernetes.io/config.hash"] || n.Status.Phase != v1.PodRunning {
			return fmt.Errorf("hash %s phase %s", n.Annotations["kubernetes.io/config.mirror"], n.Status.Phase)
		}
		return nil
	})
	if err := d.RemoveManifest("web.yaml"); err != nil {
		t.Fatal(err)
	}
	d.eventually(60*time.Second, "the mirror gone with its manifest", func() error {
		out, err := p.Kubectl(t.Context(), "get", "pod", mirrorName, "--ignore-not-found", "-o", "name")
		if err != nil || strings.TrimSpace(out) != "" {
			return fmt.Errorf("%q %v", out, err)
		}
		return nil
	})
}

// waitMirror polls a pod in the API's default namespace until cond holds.
func waitMirror(t *testing.T, p *testcontrolplane.Plane, name string, timeout time.Duration, what string, cond func(*v1.Pod) error) *v1.Pod {
	t.Helper()
	return waitAPIObject(t, p, "pod "+name+" "+what, timeout, cond, "get", "pod", "-n", "default", name)
}
