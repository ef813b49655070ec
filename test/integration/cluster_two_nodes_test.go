package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestClusterTwoNodes: two minilet daemons on this host (their own
// containerd namespaces, run dirs, node names and CNI networks) are two
// nodes of one cluster: the scheduler spreads a Deployment over both, and
// once one is cordoned with kubectl nothing moves and new pods land on the
// other.
func TestClusterTwoNodes(t *testing.T) {
	p := needPlane(t)
	a, b := takeNodeName(t), takeNodeName(t)
	da := startClusterDaemon(t, p, a)
	db := startClusterDaemon(t, p, b)
	// Ready, and the node lifecycle controller has taken away the
	// not-ready taint a new Node gets: schedulable.
	for _, n := range []string{a, b} {
		waitNode(t, p, n, 60*time.Second, "Ready and untainted", func(n *v1.Node) error {
			if err := nodeReadyIs(v1.ConditionTrue)(n); err != nil {
				return err
			}
			if len(n.Spec.Taints) > 0 {
				return fmt.Errorf("taints %v", n.Spec.Taints)
			}
			return nil
		})
	}

	kubectl(t, p, "create", "deployment", "spread", "--image="+BusyboxImage, "--replicas=4", "--", "sleep", "3600")
	t.Cleanup(func() { _, _ = p.Kubectl(context.Background(), "delete", "deployment", "spread", "--wait=false") })
	pods := waitAPIPods(t, p, "app=spread", 4, 120*time.Second)
	on := map[string][]string{}
	for _, pod := range pods {
		on[pod.Spec.NodeName] = append(on[pod.Spec.NodeName], pod.Name)
	}
	if len(on[a]) == 0 || len(on[b]) == 0 {
		t.Fatalf("not spread over both nodes: %v", on)
	}
	// Each runs where the API says, and only there.
	for node, d := range map[string]*daemon{a: da, b: db} {
		for _, name := range on[node] {
			if _, err := d.pod("default", name); err != nil {
				t.Errorf("pod %s bound to %s does not run there: %v", name, node, err)
			}
		}
		other := db
		if d == db {
			other = da
		}
		for _, name := range on[node] {
			if _, err := other.pod("default", name); err == nil {
				t.Errorf("pod %s bound to %s runs on the other node too", name, node)
			}
		}
	}
	before := map[string]string{}
	for _, pod := range pods {
		before[pod.Name] = pod.Spec.NodeName
	}

	kubectl(t, p, "cordon", a)
	kubectl(t, p, "scale", "deployment", "spread", "--replicas=6")
	pods = waitAPIPods(t, p, "app=spread", 6, 120*time.Second)
	for _, pod := range pods {
		if was, ok := before[pod.Name]; ok {
			if pod.Spec.NodeName != was {
				t.Errorf("pod %s moved from %s to %s", pod.Name, was, pod.Spec.NodeName)
			}
			continue
		}
		if pod.Spec.NodeName != b {
			t.Errorf("new pod %s landed on the cordoned node %s", pod.Name, pod.Spec.NodeName)
		}
	}
	if len(pods) != 6 {
		t.Fatal(fmt.Sprint(len(pods)))
	}
}
