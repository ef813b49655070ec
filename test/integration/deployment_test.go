package integration

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
)

// webDeployment is a Deployment of busybox pods whose readiness is a file
// the container makes (ready: "touch /ready") or never makes.
func webDeployment(version, ready string, progressDeadline int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 3
  progressDeadlineSeconds: %d
  selector: {matchLabels: {app: web}}
  strategy:
    rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: %s
        command: [sh, -c, "%s; exec sleep 3600"]
        env: [{name: VERSION, value: "%s"}]
        readinessProbe:
          exec: {command: [test, -f, /ready]}
          periodSeconds: 1
`, progressDeadline, BusyboxImage, ready, version)
}

// TestDeploymentRollingUpdate: a 3-replica Deployment runs 3 pods named as
// the controllers name them; a new template rolls out with maxUnavailable
// 0 while a poller never sees fewer than 3 ready pods; a template whose
// readiness never passes stalls the rollout with the old pods serving and
// ProgressDeadlineExceeded.
func TestDeploymentRollingUpdate(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("web.yaml", webDeployment("1", "touch /ready", 600))

	var first *appsv1.Deployment
	d.eventually(90*time.Second, "3 replicas are available", func() error {
		dep, err := d.deployment("web")
		if err != nil {
			return err
		}
		if s := dep.Status; s.AvailableReplicas != 3 || s.UpdatedReplicas != 3 || s.Replicas != 3 {
			return fmt.Errorf("status %+v", s)
		}
		first = dep
		return nil
	})
	if c := deployCondition(first, appsv1.DeploymentProgressing); c == nil || c.Reason != "NewReplicaSetAvailable" {
		t.Errorf("Progressing condition %+v, want NewReplicaSetAvailable", c)
	}
	if c := deployCondition(first, appsv1.DeploymentAvailable); c == nil || c.Status != v1.ConditionTrue {
		t.Errorf("Available condition %+v", c)
	}
	pods, err := d.podsOwnedBy("ReplicaSet", "web-")
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3: %s", len(pods), summarize(pods))
	}
	hash := pods[0].Labels["pod-template-hash"]
	rsName := "web-" + hash
	for _, p := range pods {
		owner := p.OwnerReferences[0]
		if owner.Name != rsName || !strings.HasPrefix(p.Name, rsName+"-") || len(p.Name) != len(rsName)+6 || p.Labels["app"] != "web" {
			t.Errorf("pod %s: owner %s, labels %v; want <%s>-<5 chars>, owned by %s", p.Name, owner.Name, p.Labels, rsName, rsName)
		}
	}

	// Roll out version 2 while counting ready pods.
	readyOf := func(pods []v1.Pod) (int, string) {
		n := 0
		for _, p := range pods {
			if p.DeletionTimestamp == nil && isReady(&p) && strings.HasPrefix(p.Name, "web-") {
				n++
			}
		}
		return n, summarize(pods)
	}
	watch := d.pollPods(readyOf, func(a, b int) bool { return a < b }, 3)
	d.writeManifest("web.yaml", webDeployment("2", "touch /ready", 600))
	d.eventually(120*time.Second, "version 2 is rolled out", func() error {
		dep, err := d.deployment("web")
		if err != nil {
			return err
		}
		pods, err := d.podsOwnedBy("ReplicaSet", "web-")
		if err != nil {
			return err
		}
		if s := dep.Status; s.UpdatedReplicas != 3 || s.AvailableReplicas != 3 || s.Replicas != 3 || len(pods) != 3 {
			return fmt.Errorf("status %+v, pods %s", s, summarize(pods))
		}
		for _, p := range pods {
			if p.Labels["pod-template-hash"] == hash {
				return fmt.Errorf("old pod %s still there", p.Name)
			}
		}
		return nil
	})
	worst, at, polls := watch.finish()
	if worst < 3 {
		t.Errorf("during the rollout with maxUnavailable 0, only %d pods were ready (%d polls): %s", worst, polls, at)
	}
	t.Logf("rollout: at least %d pods ready in each of %d polls", worst, polls)
	dep, _ := d.deployment("web")
	if dep.Annotations["deployment.kubernetes.io/revision"] != "2" || dep.Status.ObservedGeneration != 2 {
		t.Errorf("revision %q, observedGeneration %d; want 2 and 2", dep.Annotations["deployment.kubernetes.io/revision"], dep.Status.ObservedGeneration)
	}
	if out := d.cli("rollout", "status", "deploy/web"); !strings.Contains(out, `deployment "web" successfully rolled out`) {
		t.Errorf("rollout status: %q", out)
	}
	if out := d.cli("get", "deploy"); !regexpMatch(`(?m)^web\s+3/3\s+3\s+3\s+\S+$`, out) {
		t.Errorf("get deploy:\n%s", out)
	}
	if out := d.cli("get", "rs"); !regexpMatch(`(?m)^web-\w+\s+0\s+0\s+0\s+\S+$`, out) || !regexpMatch(`(?m)^web-\w+\s+3\s+3\s+3\s+\S+$`, out) {
		t.Errorf("get rs (want the old one at 0, the new one at 3):\n%s", out)
	}
	if out := d.cli("describe", "deploy", "web"); !strings.Contains(out, "NewReplicaSet:") || !strings.Contains(out, "3 desired | 3 updated | 3 total | 3 available | 0 unavailable") || !strings.Contains(out, "ScalingReplicaSet") {
		t.Errorf("describe deploy:\n%s", out)
	}
	evs, err := d.Client.WorkloadEvents(t.Context(), "deployments", "default", "web")
	if err != nil || !strings.Contains(eventSummary(evs.Items), "ScalingReplicaSet") {
		t.Errorf("events %v %s: want ScalingReplicaSet", err, eventSummary(evs.Items))
	}

	// rollout restart replaces every pod by a rollout, the file as it is.
	before, _ := d.podsOwnedBy("ReplicaSet", "web-")
	v2hash := before[0].Labels["pod-template-hash"]
	if out := d.cli("rollout", "restart", "deploy/web"); !strings.Contains(out, "deployment.apps/web restarted") {
		t.Errorf("rollout restart: %q", out)
	}
	d.eventually(120*time.Second, "the restart is rolled out", func() error {
		dep, err := d.deployment("web")
		if err != nil {
			return err
		}
		pods, err := d.podsOwnedBy("ReplicaSet", "web-")
		if err != nil {
			return err
		}
		if dep.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] == "" || dep.Annotations["deployment.kubernetes.io/revision"] != "3" {
			return fmt.Errorf("template annotations %v, revision %s", dep.Spec.Template.Annotations, dep.Annotations["deployment.kubernetes.io/revision"])
		}
		if s := dep.Status; s.UpdatedReplicas != 3 || s.AvailableReplicas != 3 || len(pods) != 3 {
			return fmt.Errorf("status %+v, pods %s", s, summarize(pods))
		}
		for _, p := range pods {
			if p.Labels["pod-template-hash"] == v2hash {
				return fmt.Errorf("pod %s not restarted yet", p.Name)
			}
		}
		return nil
	})

	// Version 3 never gets ready: the rollout stalls at one surge pod,
	// the three old pods keep serving, and the deadline passes.
	d.writeManifest("web.yaml", webDeployment("3", "true", 4))
	d.eventually(60*time.Second, "the rollout times out", func() error {
		dep, err := d.deployment("web")
		if err != nil {
			return err
		}
		c := deployCondition(dep, appsv1.DeploymentProgressing)
		if c == nil || c.Status != v1.ConditionFalse || c.Reason != "ProgressDeadlineExceeded" {
			return fmt.Errorf("Progressing %+v", c)
		}
		return nil
	})
	if out, err := d.cliErr("rollout", "status", "deploy/web"); err == nil || !strings.Contains(out, `deployment "web" exceeded its progress deadline`) {
		t.Errorf("rollout status of a stalled rollout: %v %q, want exit 1 and the deadline message", err, out)
	}
	pods, _ = d.podsOwnedBy("ReplicaSet", "web-")
	ready, _ := readyOf(pods)
	if ready != 3 || len(pods) != 4 {
		t.Errorf("stalled rollout: %d pods, %d ready; want 4 (3 old serving + 1 new): %s", len(pods), ready, summarize(pods))
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

func regexpAll(re, s string) []string { return regexp.MustCompile(re).FindAllString(s, -1) }

// TestDeploymentFileTurnsBad: a Deployment whose file gets a typo keeps
// its pods, also across a daemon restart (the record holds the last good
// version); the error names the file and the field; fixing the file with a
// new replica count is applied.
func TestDeploymentFileTurnsBad(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("web.yaml", webDeployment("1", "touch /ready", 600))
	d.waitAvailable("web", 3, 90*time.Second)
	before, _ := d.podsOwnedBy("ReplicaSet", "web-")
	d.writeManifest("web.yaml", strings.Replace(webDeployment("2", "touch /ready", 600), "replicas: 3", "replicas: 3\n  replicaz: 1", 1))
	d.eventually(30*time.Second, "the error is reported", func() error {
		out, _ := d.cliErr("get", "deploy")
		if !strings.Contains(out, "web.yaml") || !strings.Contains(out, "spec.replicaz: unknown field") {
			return fmt.Errorf("get deploy:\n%s", out)
		}
		return nil
	})
	d.signal(syscall.SIGKILL)
	d.start()
	d.waitAvailable("web", 3, 30*time.Second) // the Deployment runs on from its record
	after, _ := d.podsOwnedBy("ReplicaSet", "web-")
	if summarizeUIDs(after) != summarizeUIDs(before) {
		t.Errorf("pods changed while the file was bad: %s → %s", summarizeUIDs(before), summarizeUIDs(after))
	}
	d.writeManifest("web.yaml", strings.Replace(webDeployment("1", "touch /ready", 600), "replicas: 3", "replicas: 2", 1))
	d.eventually(60*time.Second, "the fixed file scales to 2", func() error {
		pods, err := d.podsOwnedBy("ReplicaSet", "web-")
		if err != nil {
			return err
		}
		live := 0
		for _, p := range pods {
			if p.DeletionTimestamp == nil {
				live++
			}
		}
		if live != 2 {
			return fmt.Errorf("%d pods: %s", live, summarize(pods))
		}
		return nil
	})
}

func summarizeUIDs(pods []v1.Pod) string {
	var ids []string
	for _, p := range pods {
		ids = append(ids, string(p.UID))
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}
