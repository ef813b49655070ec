package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestWorkloadsSurviveSIGKILL: minilet is killed with SIGKILL at random
// instants (3 times, MINILET_WORKLOAD_KILLS) during a rolling update, a
// Job and a StatefulSet's ordered start. After each restart
// the rollout goes on to the end, no pod that was running and is still
// wanted is restarted or replaced, and every Job pod ran exactly once
// (each leaves a file in a hostPath directory; a pod run twice would
// leave its file twice in the log). MINILET_WORKLOAD_SEED replays.
func TestWorkloadsSurviveSIGKILL(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MINILET_WORKLOAD_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("seed %d (replay with MINILET_WORKLOAD_SEED=%d)", seed, seed)
	d := startDaemon(t)
	out := t.TempDir()

	d.writeManifest("web.yaml", webDeployment("1", "touch /ready", 600))
	d.waitAvailable("web", 3, 90*time.Second)

	// A Job whose pods each append their name to a shared file, run
	// one at a time, while the Deployment rolls out version 2 with a slow
	// readiness (each new pod ready after ~2 s).
	d.writeManifest("batch.yaml", fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  completions: 4
  parallelism: 1
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 0
      volumes: [{name: out, hostPath: {path: %s}}]
      containers:
      - name: work
        image: %s
        command: [sh, -c, 'echo $HOSTNAME >> /out/runs; sleep 1']
        volumeMounts: [{name: out, mountPath: /out}]
`, out, BusyboxImage))
	d.writeManifest("web.yaml", webDeployment("2", "sleep 2; touch /ready", 600))
	// And a StatefulSet starting its pods in order, each with its claim.
	d.writeManifest("db.yaml", statefulSet(3, "1"))

	// Pods seen running before a kill, by UID with their container's
	// start time: after the restart, those still listed must be the same.
	seen := map[types.UID]time.Time{}
	note := func() {
		for _, kind := range []string{"ReplicaSet", "Job", "StatefulSet"} {
			pods, _ := d.podsOwnedBy(kind, "")
			for _, p := range pods {
				if cs := containerStatus(&p, firstContainer(&p)); cs != nil && cs.State.Running != nil {
					seen[p.UID] = cs.State.Running.StartedAt.Time
				}
			}
		}
	}
	kills := 3
	if n, err := strconv.Atoi(os.Getenv("MINILET_WORKLOAD_KILLS")); err == nil && n > 0 {
		kills = n
	}
	for i := 0; i < kills; i++ {
		wait := time.Duration(300+rng.IntN(1500)) * time.Millisecond
		deadline := time.Now().Add(wait)
		for time.Now().Before(deadline) {
			note()
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("kill %d: SIGKILL minilet after %v", i+1, wait)
		d.signal(syscall.SIGKILL)
		d.start()
	}

	d.eventually(120*time.Second, "the rollout and the Job finish", func() error {
		dep, err := d.deployment("web")
		if err != nil {
			return err
		}
		if s := dep.Status; s.UpdatedReplicas != 3 || s.AvailableReplicas != 3 || s.Replicas != 3 {
			return fmt.Errorf("deployment status %+v", s)
		}
		if c := deployCondition(dep, appsv1.DeploymentProgressing); c == nil || c.Reason != "NewReplicaSetAvailable" {
			return fmt.Errorf("Progressing %+v", c)
		}
		sts, err := d.Client.StatefulSets(t.Context(), "default")
		if err != nil || len(sts.Items) != 1 {
			return fmt.Errorf("statefulsets: %v", err)
		}
		if s := sts.Items[0].Status; s.ReadyReplicas != 3 || s.Replicas != 3 {
			return fmt.Errorf("statefulset status %+v", s)
		}
		j, err := d.job("batch")
		if err != nil {
			return err
		}
		if jobCondition(j, batchv1.JobComplete) == nil {
			return fmt.Errorf("job status %+v", j.Status)
		}
		return nil
	})
	for _, kind := range []string{"ReplicaSet", "Job", "StatefulSet"} {
		pods, _ := d.podsOwnedBy(kind, "")
		for _, p := range pods {
			started, ok := seen[p.UID]
			cs := containerStatus(&p, firstContainer(&p))
			if !ok || cs == nil {
				continue
			}
			if cs.RestartCount != 0 {
				t.Errorf("pod %s was restarted %d times", p.Name, cs.RestartCount)
			}
			if cs.State.Running != nil && !cs.State.Running.StartedAt.Time.Equal(started) {
				t.Errorf("pod %s: its container started at %v before a kill, at %v after", p.Name, started, cs.State.Running.StartedAt.Time)
			}
		}
	}
	if n := strings.Count(d.output.String(), "released the FIFO of an exec"); n > 0 {
		t.Logf("a restarted minilet released %d exec FIFOs a killed one left", n)
	}
	// Each StatefulSet pod found its own claim.
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("db-%d", i)
		if log := d.cli("logs", name); !strings.Contains(log, "who="+name) {
			t.Errorf("%s printed %q", name, log)
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]int{}
	lines := 0
	for _, l := range splitLines(string(data)) {
		runs[l]++
		lines++
	}
	j, _ := d.job("batch")
	if lines != 4 || len(runs) != 4 || j.Status.Succeeded != 4 {
		t.Errorf("the Job's pods ran %d times (%v), %d succeeded; want 4 distinct pods once each", lines, runs, j.Status.Succeeded)
	}
}

func firstContainer(p *v1.Pod) string {
	if len(p.Spec.Containers) == 0 {
		return ""
	}
	return p.Spec.Containers[0].Name
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// TestLeftoverTempMountsRemoved: an image snapshot mounted for a moment
// by the containerd client (to read the image's /etc/passwd) stays
// mounted when minilet is killed inside that moment; the next minilet
// unmounts it.
func TestLeftoverTempMountsRemoved(t *testing.T) {
	d := startDaemon(t)
	d.signal(syscall.SIGKILL)
	src := t.TempDir()
	left := filepath.Join(d.RunDir, "tmpmounts", "containerd-mount4242")
	if err := os.MkdirAll(left, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount(src, left, "", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(left, syscall.MNT_DETACH) })
	d.start()
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mounts), left) {
		t.Errorf("%s is still mounted after minilet started", left)
	}
	if _, err := os.Stat(left); err == nil {
		t.Errorf("%s is still there", left)
	}
}
