package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

func statefulSet(replicas int, version string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: %d
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: %s
        command: [sh, -c, '[ -f /data/who ] || hostname > /data/who; echo "host=$(hostname) who=$(cat /data/who) version=$VERSION"; sleep 1; touch /ready; exec sleep 3600']
        env: [{name: VERSION, value: "%s"}]
        volumeMounts: [{name: data, mountPath: /data}]
        readinessProbe:
          exec: {command: [test, -f, /ready]}
          periodSeconds: 1
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`, replicas, BusyboxImage, version)
}

// TestStatefulSetOrderAndIdentity: a 3-replica StatefulSet starts db-0,
// db-1, db-2 in order, each after the one before is Ready; each pod's
// hostname is its name and its claim data-db-<n> keeps what it wrote
// across a template change (rolled out from the highest ordinal) and a
// scale down to 1 and back up to 3.
func TestStatefulSetOrderAndIdentity(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("db.yaml", statefulSet(3, "1"))
	waitSTS := func(what, version string, replicas int) []v1.Pod {
		var pods []v1.Pod
		d.eventually(120*time.Second, what, func() error {
			list, err := d.Client.StatefulSets(t.Context(), "default")
			if err != nil || len(list.Items) != 1 {
				return fmt.Errorf("%v %v", err, list)
			}
			s := list.Items[0].Status
			if int(s.ReadyReplicas) != replicas || int(s.UpdatedReplicas) != replicas || int(s.Replicas) != replicas || s.CurrentRevision != s.UpdateRevision {
				return fmt.Errorf("status %+v", s)
			}
			pods, err = d.podsOwnedBy("StatefulSet", "db")
			if err != nil {
				return err
			}
			if len(pods) != replicas {
				return fmt.Errorf("%d pods: %s", len(pods), summarize(pods))
			}
			for _, p := range pods {
				if p.DeletionTimestamp != nil || !strings.Contains(d.cli("logs", p.Name), "version="+version) {
					return fmt.Errorf("pod %s not at version %s yet", p.Name, version)
				}
			}
			return nil
		})
		return pods
	}
	pods := waitSTS("3 pods are ready", "1", 3)
	byName := map[string]v1.Pod{}
	for _, p := range pods {
		byName[p.Name] = p
	}
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("db-%d", i)
		p, ok := byName[name]
		if !ok {
			t.Fatalf("no pod %s: %s", name, summarize(pods))
		}
		if p.Spec.Hostname != name || p.Spec.Subdomain != "db" || p.Labels["statefulset.kubernetes.io/pod-name"] != name || p.Labels["apps.kubernetes.io/pod-index"] != fmt.Sprint(i) {
			t.Errorf("pod %s: hostname %q subdomain %q labels %v", name, p.Spec.Hostname, p.Spec.Subdomain, p.Labels)
		}
		if out := d.cli("logs", name); !strings.Contains(out, fmt.Sprintf("host=%s who=%s", name, name)) {
			t.Errorf("pod %s printed %q", name, out)
		}
		if i == 0 {
			continue
		}
		prev := byName[fmt.Sprintf("db-%d", i-1)]
		ready := podCondition(&prev, v1.PodReady)
		if ready == nil || p.CreationTimestamp.Before(&ready.LastTransitionTime) {
			t.Errorf("%s was made at %v, before %s was ready (%v): not in order", name, p.CreationTimestamp, prev.Name, ready)
		}
	}
	if out := d.cli("get", "pvc"); strings.Count(out, "Bound") != 3 || !strings.Contains(out, "data-db-2") {
		t.Errorf("get pvc:\n%s", out)
	}

	// A new template rolls out; each pod keeps its claim.
	d.writeManifest("db.yaml", statefulSet(3, "2"))
	for _, p := range waitSTS("version 2 is rolled out", "2", 3) {
		if out := d.cli("logs", p.Name); !strings.Contains(out, "who="+p.Name) {
			t.Errorf("after the update, %s printed %q: its claim lost its data", p.Name, out)
		}
		if p.UID == byName[p.Name].UID {
			t.Errorf("%s was not replaced by the update", p.Name)
		}
	}
	// Down to 1 and back to 3: db-1 and db-2 find their data again.
	d.writeManifest("db.yaml", statefulSet(1, "2"))
	waitSTS("scaled down to 1", "2", 1)
	if out := d.cli("get", "pvc"); len(regexpAll(`(?m)^data-db-\d\s`, out)) != 3 {
		t.Errorf("claims after the scale down (Retain):\n%s", out)
	}
	d.writeManifest("db.yaml", statefulSet(3, "2"))
	for _, p := range waitSTS("scaled up to 3", "2", 3) {
		if out := d.cli("logs", p.Name); !strings.Contains(out, "who="+p.Name) {
			t.Errorf("after the scale up, %s printed %q", p.Name, out)
		}
	}
	if out := d.cli("get", "sts"); !regexpMatch(`(?m)^db\s+3/3\s+\S+$`, out) {
		t.Errorf("get sts:\n%s", out)
	}
	list, _ := d.Client.StatefulSets(t.Context(), "default")
	if s := list.Items[0]; s.Status.ObservedGeneration != 4 {
		t.Errorf("observedGeneration %d, want 4 (four specs)", s.Status.ObservedGeneration)
	}
}
