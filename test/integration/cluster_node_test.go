package integration

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/internal/testcontrolplane"
)

// TestClusterNode: with --kubeconfig minilet registers its Node in a real
// API server (labels, capacity, nodeInfo), keeps it Ready with its Lease,
// takes cordon, labels and taints from the API (kubectl) and writes its
// own commands through to it (as the node's user, under NodeRestriction);
// stopped, the node goes NotReady once the lease lapses while its pods
// run on; started again, Ready, the pods untouched.
func TestClusterNode(t *testing.T) {
	p := needPlane(t)
	name := takeNodeName(t)
	d := startClusterDaemon(t, p, name, "--node-labels", "zone=test")

	n := waitNode(t, p, name, 60*time.Second, "registered and Ready", nodeReadyIs(v1.ConditionTrue))
	if n.Labels["kubernetes.io/hostname"] != name || n.Labels["zone"] != "test" || n.Labels["kubernetes.io/os"] != "linux" {
		t.Errorf("labels %v", n.Labels)
	}
	if got := n.Status.Capacity.Cpu().Value(); got != int64(runtime.NumCPU()) {
		t.Errorf("cpu capacity %d, want %d", got, runtime.NumCPU())
	}
	if n.Status.Capacity.Memory().IsZero() || n.Status.Allocatable.Pods().IsZero() {
		t.Errorf("capacity %v allocatable %v", n.Status.Capacity, n.Status.Allocatable)
	}
	if !strings.HasPrefix(n.Status.NodeInfo.ContainerRuntimeVersion, "containerd://") || n.Status.NodeInfo.KubeletVersion == "" {
		t.Errorf("nodeInfo %+v", n.Status.NodeInfo)
	}
	for _, c := range []v1.NodeConditionType{v1.NodeMemoryPressure, v1.NodeDiskPressure, v1.NodePIDPressure} {
		if s := nodeCondition(n, c); s != v1.ConditionFalse {
			t.Errorf("condition %s is %q", c, s)
		}
	}
	var lease coordinationv1.Lease
	if err := kubectlJSON(t, p, &lease, "get", "lease", "-n", "kube-node-lease", name); err != nil {
		t.Fatal(err)
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != name || lease.Spec.LeaseDurationSeconds == nil || *lease.Spec.LeaseDurationSeconds != 8 {
		t.Errorf("lease spec %+v", lease.Spec)
	}
	d.eventually(30*time.Second, "the lease renewed and owned by the Node", func() error {
		var l coordinationv1.Lease
		if err := kubectlJSON(t, p, &l, "get", "lease", "-n", "kube-node-lease", name); err != nil {
			return err
		}
		if l.Spec.RenewTime == nil || lease.Spec.RenewTime == nil || !l.Spec.RenewTime.After(lease.Spec.RenewTime.Time) {
			return fmt.Errorf("renewTime %v, was %v", l.Spec.RenewTime, lease.Spec.RenewTime)
		}
		if len(l.OwnerReferences) != 1 || l.OwnerReferences[0].Kind != "Node" || l.OwnerReferences[0].UID != n.UID {
			return fmt.Errorf("owners %+v", l.OwnerReferences)
		}
		return nil
	})

	d.writeManifest("web.yaml", sleeperPod("web", ""))
	web := d.waitPod("web", 60*time.Second, "runs", allRunning)
	webPause, _ := d.pids(web)

	// The API is the truth: a label and a cordon set with kubectl show in
	// minilet's own view of its node.
	kubectl(t, p, "label", "node", name, "color=blue")
	kubectl(t, p, "cordon", name)
	d.eventually(20*time.Second, "kubectl's label and cordon in minilet's node", func() error {
		var local v1.Node
		if err := json.Unmarshal([]byte(d.cli("node", "-o", "json")), &local); err != nil {
			return err
		}
		if local.Labels["color"] != "blue" || !local.Spec.Unschedulable {
			return fmt.Errorf("labels %v unschedulable %v", local.Labels, local.Spec.Unschedulable)
		}
		return nil
	})
	d.writeManifest("late.yaml", sleeperPod("late", ""))
	d.waitPod("late", 20*time.Second, "waits: the API says cordoned", unschedulable)
	kubectl(t, p, "uncordon", name)
	d.waitPod("late", 60*time.Second, "runs once uncordoned with kubectl", allRunning)

	// A taint set with kubectl keeps a new pod waiting; removed, it runs.
	kubectl(t, p, "taint", "node", name, "dedicated=infra:NoSchedule")
	d.writeManifest("tainted.yaml", sleeperPod("tainted", ""))
	d.waitPod("tainted", 20*time.Second, "waits for the taint", waitsWith("0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}."))
	kubectl(t, p, "taint", "node", name, "dedicated-")
	d.waitPod("tainted", 60*time.Second, "runs once the taint is gone", allRunning)

	// minilet's own commands write through, as the node: a label is
	// allowed, a taint is refused by NodeRestriction with its reason.
	d.cli("label", "node", "size=xl")
	n = waitNode(t, p, name, 20*time.Second, "has minilet's label", func(n *v1.Node) error {
		if n.Labels["size"] != "xl" {
			return fmt.Errorf("labels %v", n.Labels)
		}
		return nil
	})
	if out, err := d.cliErr("taint", "node", "x=y:NoSchedule"); err == nil || !strings.Contains(out, "not allowed to modify taints") {
		t.Errorf("taint as the node: %v %q", err, out)
	}
	d.cli("cordon")
	waitNode(t, p, name, 20*time.Second, "cordoned by minilet cordon", func(n *v1.Node) error {
		if !n.Spec.Unschedulable {
			return fmt.Errorf("schedulable")
		}
		return nil
	})
	d.cli("uncordon")

	// Stopped, the node goes NotReady once its lease lapses; the pods run
	// on. Started again, it is Ready and they are the same.
	d.signal(syscall.SIGTERM)
	stopped := time.Now()
	waitNode(t, p, name, nodeMonitorGracePeriod+60*time.Second, "NotReady after the lease lapses", nodeReadyIs(v1.ConditionUnknown))
	t.Logf("NotReady %s after the stop", time.Since(stopped).Round(time.Second))
	if !processAlive(webPause) {
		t.Fatal("the pod stopped with minilet")
	}
	d.start()
	waitNode(t, p, name, 60*time.Second, "Ready again", nodeReadyIs(v1.ConditionTrue))
	web = d.waitPod("web", 30*time.Second, "runs", allRunning)
	if pause, _ := d.pids(web); pause != webPause {
		t.Errorf("the pod's sandbox changed across the restart: %d, was %d", pause, webPause)
	}
	if cs := containerStatus(web, "main"); cs == nil || cs.RestartCount != 0 {
		t.Errorf("container status %+v", cs)
	}
	var again v1.Node
	if err := kubectlJSON(t, p, &again, "get", "node", name); err != nil {
		t.Fatal(err)
	}
	if again.UID != n.UID || again.Labels["color"] != "blue" || again.Labels["size"] != "xl" {
		t.Errorf("after the restart: uid %s (was %s), labels %v", again.UID, n.UID, again.Labels)
	}
}

// waitNode polls the Node in the API until cond holds and returns it.
func waitNode(t *testing.T, p *testcontrolplane.Plane, name string, timeout time.Duration, what string, cond func(*v1.Node) error) *v1.Node {
	t.Helper()
	return waitAPIObject(t, p, "node "+name+" "+what, timeout, cond, "get", "node", name)
}

// nodeReadyIs is a waitNode condition: Ready has status s.
func nodeReadyIs(s v1.ConditionStatus) func(*v1.Node) error {
	return func(n *v1.Node) error {
		if got := nodeCondition(n, v1.NodeReady); got != s {
			return fmt.Errorf("Ready is %q", got)
		}
		return nil
	}
}

func nodeCondition(n *v1.Node, typ v1.NodeConditionType) v1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return ""
}
