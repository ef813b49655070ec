package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

func daemonSet(name, nodeSelector string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: %[1]s}
spec:
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      terminationGracePeriodSeconds: 0
      nodeSelector: {%[2]s}
      containers: [{name: agent, image: %[3]s, command: [sleep, "3600"]}]
`, name, nodeSelector, BusyboxImage)
}

// TestDaemonSet: a DaemonSet whose nodeSelector this node matches runs one
// pod, which stays on a cordoned node (the controller's tolerations); one
// whose nodeSelector it does not match runs none and desires none.
func TestDaemonSet(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("agent.yaml", daemonSet("agent", "kubernetes.io/hostname: testnode"))
	d.writeManifest("gpu.yaml", daemonSet("gpu", "gpu: \"true\""))
	get := func(name string) (*appsv1.DaemonSet, error) {
		list, err := d.Client.DaemonSets(t.Context(), "default")
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			if list.Items[i].Name == name {
				return &list.Items[i], nil
			}
		}
		return nil, fmt.Errorf("daemonset %s not listed", name)
	}
	d.eventually(60*time.Second, "the agent runs", func() error {
		ds, err := get("agent")
		if err != nil {
			return err
		}
		if s := ds.Status; s.DesiredNumberScheduled != 1 || s.NumberReady != 1 {
			return fmt.Errorf("status %+v", s)
		}
		return nil
	})
	pods, _ := d.podsOwnedBy("DaemonSet", "agent")
	if len(pods) != 1 || !strings.HasPrefix(pods[0].Name, "agent-") || len(pods[0].Name) != len("agent-")+5 {
		t.Fatalf("pods %s", summarize(pods))
	}
	gpu, err := get("gpu")
	if err != nil {
		t.Fatal(err)
	}
	if gpuPods, _ := d.podsOwnedBy("DaemonSet", "gpu"); gpu.Status.DesiredNumberScheduled != 0 || len(gpuPods) != 0 {
		t.Errorf("a DaemonSet this node does not fit: status %+v, pods %s", gpu.Status, summarize(gpuPods))
	}
	d.cli("cordon")
	d.writeManifest("other.yaml", daemonSet("other", "kubernetes.io/os: linux"))
	d.eventually(60*time.Second, "a new DaemonSet runs on the cordoned node", func() error {
		ds, err := get("other")
		if err != nil {
			return err
		}
		if ds.Status.NumberReady != 1 {
			return fmt.Errorf("status %+v", ds.Status)
		}
		return nil
	})
	if out := d.cli("get", "ds"); !regexpMatch(`(?m)^agent\s+1\s+1\s+1\s+1\s+1\s+kubernetes.io/hostname=testnode\s+\S+$`, out) || !regexpMatch(`(?m)^gpu\s+0\s+0\s+0\s+0\s+0\s+gpu=true\s+\S+$`, out) {
		t.Errorf("get ds:\n%s", out)
	}
	if out := d.cli("get", "all"); !regexpMatch(`(?m)^pod/agent-\w{5}\s+1/1\s+Running`, out) || !regexpMatch(`(?m)^daemonset.apps/gpu\s+0\s+0`, out) || !strings.Contains(out, "\n\nNAME ") {
		t.Errorf("get all:\n%s", out)
	}
	d.cli("uncordon")
}
