package integration

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestClusterResilience: a restarted minilet adopts the API server's pods
// without restarting them; with the API server stopped for 60 s every pod
// keeps running (and a crashing one keeps being restarted), and once it is
// back the statuses in the API catch up.
func TestClusterResilience(t *testing.T) {
	p := needPlane(t)
	name := takeNodeName(t)
	d := startClusterDaemon(t, p, name)
	waitNode(t, p, name, 60*time.Second, "registered and Ready", nodeReadyIs(v1.ConditionTrue))

	kubectl(t, p, "create", "deployment", "steady", "--image="+BusyboxImage, "--replicas=2", "--", "sleep", "3600")
	t.Cleanup(func() { _, _ = p.Kubectl(t.Context(), "delete", "deployment", "steady", "--wait=false") })
	kubectl(t, p, "create", "deployment", "crashy", "--image="+BusyboxImage, "--", "sh", "-c", "sleep 2; exit 1")
	t.Cleanup(func() { _, _ = p.Kubectl(t.Context(), "delete", "deployment", "crashy", "--wait=false") })
	steady := waitAPIPods(t, p, "app=steady", 2, 120*time.Second)
	pauses := map[string]uint32{}
	for _, ap := range steady {
		local, err := d.pod("default", ap.Name)
		if err != nil {
			t.Fatal(err)
		}
		pauses[ap.Name], _ = d.pids(local)
	}

	// SIGKILL and start again: the same pods, not restarted.
	d.signal(syscall.SIGKILL)
	d.start()
	for name, pause := range pauses {
		local := d.waitPod(name, 30*time.Second, "adopted", allRunning)
		if got, _ := d.pids(local); got != pause {
			t.Errorf("pod %s restarted by the daemon's restart: pause %d, was %d", name, got, pause)
		}
		if cs := local.Status.ContainerStatuses; len(cs) != 1 || cs[0].RestartCount != 0 {
			t.Errorf("pod %s: %+v", name, cs)
		}
	}
	if l := waitAPIPods(t, p, "app=steady", 2, 30*time.Second); l[0].UID != steady[0].UID && l[0].UID != steady[1].UID {
		t.Errorf("the API's pods changed across the restart")
	}

	// The API server away for 60 s.
	crashyName := func() string {
		var l v1.PodList
		if err := kubectlJSON(t, p, &l, "get", "pods", "-l", "app=crashy"); err != nil || len(l.Items) != 1 {
			t.Fatalf("crashy pods: %v %d", err, len(l.Items))
		}
		return l.Items[0].Name
	}()
	p.StopAPIServer()
	stopped := time.Now()
	localRestarts := func() int32 {
		local, err := d.pod("default", crashyName)
		if err != nil || len(local.Status.ContainerStatuses) != 1 {
			return -1
		}
		return local.Status.ContainerStatuses[0].RestartCount
	}
	before := localRestarts()
	for time.Since(stopped) < 60*time.Second {
		for name, pause := range pauses {
			if !processAlive(pause) {
				t.Fatalf("pod %s stopped while the API server was away", name)
			}
		}
		time.Sleep(time.Second)
	}
	during := localRestarts()
	if during <= before {
		t.Errorf("the crashing pod was not restarted while the API server was away: %d, then %d", before, during)
	}
	if err := p.StartAPIServer(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("API server back after %s; crashy restarted %d times meanwhile", time.Since(stopped).Round(time.Second), during-before)
	d.eventually(60*time.Second, "the crashing pod's restarts in the API", func() error {
		var ap v1.Pod
		if err := kubectlJSON(t, p, &ap, "get", "pod", crashyName); err != nil {
			return err
		}
		if len(ap.Status.ContainerStatuses) != 1 || ap.Status.ContainerStatuses[0].RestartCount < during {
			return fmt.Errorf("API status %+v, %d restarts here", ap.Status.ContainerStatuses, during)
		}
		return nil
	})
	// The node lifecycle controller may mark the node and its pods not
	// ready once it sees the API server again, before it sees the lease;
	// client-go's informers relist with a back-off of up to a minute.
	waitNode(t, p, name, 120*time.Second, "Ready", nodeReadyIs(v1.ConditionTrue))
	waitAPIPods(t, p, "app=steady", 2, 120*time.Second)
	for name, pause := range pauses {
		local := d.waitPod(name, 10*time.Second, "runs", allRunning)
		if got, _ := d.pids(local); got != pause {
			t.Errorf("pod %s was restarted", name)
		}
	}
	if !strings.Contains(d.output.String(), "cannot reach the API server") {
		t.Error("the outage was not logged")
	}
}

// TestClusterRevokedCredentials: once the API server refuses the node's
// token, minilet says so once, as an error naming the remedy, and its pods
// keep running untouched while the node turns NotReady; started again with
// renewed credentials it adopts them, not restarted, and the node is
// Ready again.
func TestClusterRevokedCredentials(t *testing.T) {
	p := needPlane(t)
	name := takeNodeName(t)
	d := startClusterDaemon(t, p, name)
	waitNode(t, p, name, 60*time.Second, "registered and Ready", nodeReadyIs(v1.ConditionTrue))
	kubectl(t, p, "run", "keep", "--image="+BusyboxImage, "--", "sleep", "3600")
	t.Cleanup(func() { _, _ = p.Kubectl(t.Context(), "delete", "pod", "keep", "--wait=false") })
	waitAPIPods(t, p, "run=keep", 1, 90*time.Second)
	local := d.waitPod("keep", 10*time.Second, "runs", allRunning)
	pause, byName := d.pids(local)

	if err := p.RevokeNodeToken(t.Context(), name); err != nil {
		t.Fatal(err)
	}
	const refused = "the API server refuses this node's credentials"
	d.eventually(60*time.Second, "the refusal logged", func() error {
		if !strings.Contains(d.output.String(), refused) {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	// The lease lapses: minilet kept trying all along.
	waitNode(t, p, name, 90*time.Second, "NotReady", nodeReadyIs(v1.ConditionUnknown))
	if n := strings.Count(d.output.String(), refused); n != 1 {
		t.Errorf("the refusal was logged %d times, want once", n)
	}
	if !processAlive(pause) || !processAlive(byName["keep"]) {
		t.Fatal("the pod stopped while the credentials were refused")
	}

	// Renewed credentials (the same kubeconfig path) and a restart.
	if _, err := p.NodeKubeconfig(name); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGTERM)
	d.start()
	waitNode(t, p, name, 90*time.Second, "Ready again", nodeReadyIs(v1.ConditionTrue))
	waitAPIPods(t, p, "run=keep", 1, 90*time.Second)
	local = d.waitPod("keep", 10*time.Second, "adopted", allRunning)
	if got, _ := d.pids(local); got != pause {
		t.Errorf("the pod was restarted: pause %d, was %d", got, pause)
	}
}
