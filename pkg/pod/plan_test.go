package pod

import (
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
)

// Observed states written as data: the pause container and containers as
// the runtime lists them, in every state a crash can leave.

var planNow = time.Unix(1_700_000_000, 0)

const tok = "tok-current"

func sandboxC(state runtime.ContainerState, token string) *runtime.Container {
	return &runtime.Container{ID: "p-pod", State: state, PID: 10, CreatedAt: planNow.Add(-time.Hour),
		Labels: map[string]string{podsandbox.LabelContainerType: podsandbox.TypeSandbox, podsandbox.LabelSandbox: token}}
}

// ctr is one attempt of a container. state "exited:N" is an exit with code
// N; "ran" marks a container with no task that had been started (after a
// reboot); token "" leaves the sandbox label off (a container made by an
// older minilet).
func ctr(name string, attempt int, state string, token string) runtime.Container {
	c := runtime.Container{ID: fmt.Sprintf("p-%s-%d", name, attempt), CreatedAt: planNow.Add(-time.Minute),
		Labels: map[string]string{podsandbox.LabelContainerName: name, podsandbox.LabelRestartCount: fmt.Sprint(attempt)}}
	if token != "" {
		c.Labels[podsandbox.LabelSandbox] = token
	}
	switch {
	case state == "running":
		c.State, c.StartedAt = runtime.StateRunning, planNow.Add(-time.Minute)
	case state == "created":
		c.State = runtime.StateCreated
	case state == "ran":
		c.State, c.StartedAt = runtime.StateCreated, planNow.Add(-time.Minute)
	case state == "unknown":
		c.State = runtime.StateUnknown
	case strings.HasPrefix(state, "exited:"):
		c.State, c.StartedAt, c.FinishedAt = runtime.StateExited, planNow.Add(-time.Minute), planNow.Add(-time.Second)
		fmt.Sscanf(state, "exited:%d", &c.ExitCode)
	default:
		panic(state)
	}
	return c
}

func obsOf(sb *runtime.Container, cs ...runtime.Container) observed {
	o := emptyObserved()
	o.sandbox = sb
	for _, c := range cs {
		n := c.Labels[podsandbox.LabelContainerName]
		o.byName[n] = append(o.byName[n], c)
	}
	return o
}

// render writes a plan as text: steps separated by " | ", the actions of a
// step by ", ".
func render(p podPlan) string {
	var steps []string
	for _, st := range p.steps {
		var as []string
		for _, a := range st {
			as = append(as, a.String())
		}
		steps = append(steps, strings.Join(as, ", "))
	}
	s := strings.Join(steps, " | ")
	if p.wake > 0 {
		s += " wake=" + p.wake.String()
	}
	return s
}

func sidecarPod(withStartupProbe bool) *v1.Pod {
	pod := newPod(v1.RestartPolicyNever, []string{"side", "init"}, "app")
	always := v1.ContainerRestartPolicyAlways
	pod.Spec.InitContainers[0].RestartPolicy = &always
	if withStartupProbe {
		pod.Spec.InitContainers[0].StartupProbe = &v1.Probe{}
	}
	return pod
}

func TestPlan(t *testing.T) {
	running := func() *runtime.Container { return sandboxC(runtime.StateRunning, tok) }
	app := newPod(v1.RestartPolicyAlways, nil, "app")
	two := newPod(v1.RestartPolicyAlways, nil, "a", "b")
	inits := newPod(v1.RestartPolicyAlways, []string{"i1", "i2"}, "app")
	never := newPod(v1.RestartPolicyNever, []string{"i1"}, "app")
	onFailure := newPod(v1.RestartPolicyOnFailure, nil, "app")
	probed := probedPod()

	cases := []struct {
		name string
		in   planInput
		want string
	}{
		// The sandbox, and what a crash leaves of it.
		{"new pod: only the sandbox is made",
			planInput{pod: app, obs: obsOf(nil)},
			"make-sandbox"},

		// Volumes whose files come from objects.
		{"new pod with object volumes: their files are written before the sandbox is made",
			planInput{pod: app, obs: obsOf(nil), volumes: volumeInput{due: true}},
			"write-volumes | make-sandbox"},
		{"new pod whose ConfigMap is missing: nothing is made, the pod waits",
			planInput{pod: app, obs: obsOf(nil), volumes: volumeInput{due: true, err: fmt.Errorf("missing")}},
			" wake=10s"},
		{"dead pause, ConfigMap missing: the pause is removed, the sandbox waits",
			planInput{pod: app, complete: true, obs: obsOf(sandboxC(runtime.StateExited, tok)), volumes: volumeInput{err: fmt.Errorf("missing")}},
			"remove p-pod (sandbox exited) wake=10s"},
		{"running pod, ConfigMap changed: the files are written, nothing restarts",
			planInput{pod: app, complete: true, obs: obsOf(running(), ctr("app", 0, "running", tok)), volumes: volumeInput{due: true}},
			"write-volumes"},
		{"running pod, ConfigMap removed: it keeps running with the last files",
			planInput{pod: app, complete: true, obs: obsOf(running(), ctr("app", 0, "running", tok)), volumes: volumeInput{err: fmt.Errorf("missing")}},
			""},
		{"pause running but the record has no IPs (killed before the sandbox was complete): made again",
			planInput{pod: app, obs: obsOf(running())},
			"remove p-pod (sandbox running, left half-made) | make-sandbox (SandboxChanged)"},
		{"pause container made, task never started: removed and made again, not a sandbox change",
			planInput{pod: app, obs: obsOf(sandboxC(runtime.StateCreated, tok))},
			"remove p-pod (sandbox created, left half-made) | make-sandbox"},
		{"pause died: its containers are killed, the sandbox is made again",
			planInput{pod: two, complete: true, obs: obsOf(sandboxC(runtime.StateExited, tok), ctr("a", 0, "running", tok), ctr("b", 0, "exited:0", tok))},
			"kill p-a-0 grace=0s (SandboxChanged) | remove p-pod (sandbox exited) | make-sandbox (SandboxChanged)"},
		{"pause in an unknown state: made again",
			planInput{pod: app, complete: true, obs: obsOf(sandboxC(runtime.StateUnknown, tok), ctr("app", 0, "unknown", tok))},
			"kill p-app-0 grace=0s (SandboxChanged) | remove p-pod (sandbox unknown) | make-sandbox (SandboxChanged)"},
		{"after a reboot: no tasks; the sandbox is made again, the containers that ran are kept as history",
			planInput{pod: inits, complete: true, obs: obsOf(sandboxC(runtime.StateCreated, "old"), ctr("i1", 0, "ran", "old"), ctr("i2", 0, "ran", "old"), ctr("app", 3, "ran", "old"))},
			"remove p-pod (sandbox created) | make-sandbox (SandboxChanged)"},
		{"after a reboot, new sandbox running: init containers run again, as new attempts",
			planInput{pod: inits, complete: true, obs: obsOf(running(), ctr("i1", 0, "ran", "old"), ctr("i2", 0, "ran", "old"), ctr("app", 3, "ran", "old"))},
			"start i1#1 (SandboxChanged)"},
		{"new sandbox running: the app's next attempt starts at once (no back-off for a sandbox change)",
			planInput{pod: app, complete: true, obs: obsOf(running(), ctr("app", 4, "exited:137", "old")),
				gates: map[string]gate{"app": {forID: "p-app-4", due: planNow.Add(time.Minute)}}},
			"start app#5 (SandboxChanged)"},
		{"a container of another sandbox that never started is removed; its name gets the next attempt",
			planInput{pod: app, complete: true, obs: obsOf(running(), ctr("app", 0, "created", "old"))},
			"remove p-app-0 (never started in its sandbox) | start app#1 (SandboxChanged)"},
		{"a container of another sandbox still running is killed, and its next attempt made in this one",
			planInput{pod: app, complete: true, obs: obsOf(running(), ctr("app", 0, "running", "old"))},
			"kill p-app-0 grace=0s (SandboxChanged) | start app#1 (SandboxChanged)"},
		{"container made in this sandbox, never started (killed between create and start): started as the same attempt",
			planInput{pod: app, complete: true, obs: obsOf(running(), ctr("app", 0, "created", tok))},
			"start app#0"},
		{"a container made by an older minilet (no sandbox label) after the pause belongs to it",
			planInput{pod: app, complete: true, obs: obsOf(running(), ctr("app", 0, "running", ""))},
			""},
		{"a snapshot with no container is removed",
			planInput{pod: app, complete: true, obs: func() observed {
				o := obsOf(running(), ctr("app", 0, "running", tok))
				o.orphanSnapshots = []string{"p-app-1"}
				return o
			}()},
			"remove-snapshot p-app-1 (snapshot without container)"},
		{"steady state: nothing to do",
			planInput{pod: two, complete: true, obs: obsOf(running(), ctr("a", 0, "running", tok), ctr("b", 0, "running", tok))},
			""},

		// Init containers, sidecars, apps.
		{"init containers: the first starts alone",
			planInput{pod: inits, complete: true, obs: obsOf(running())},
			"start i1#0"},
		{"init containers: one running, the next waits",
			planInput{pod: inits, complete: true, obs: obsOf(running(), ctr("i1", 0, "running", tok))},
			""},
		{"init containers: the first done, the second starts",
			planInput{pod: inits, complete: true, obs: obsOf(running(), ctr("i1", 0, "exited:0", tok))},
			"start i2#0"},
		{"init containers all done: the apps start",
			planInput{pod: inits, complete: true, obs: obsOf(running(), ctr("i1", 0, "exited:0", tok), ctr("i2", 0, "exited:0", tok))},
			"start app#0"},
		{"failed init container under Always: restarted",
			planInput{pod: inits, complete: true, obs: obsOf(running(), ctr("i1", 0, "exited:1", tok))},
			"start i1#1 (Error)"},
		{"failed init container under Never: the pod has failed, nothing starts",
			planInput{pod: never, complete: true, obs: obsOf(running(), ctr("i1", 0, "exited:1", tok))},
			""},
		{"apps start side by side",
			planInput{pod: two, complete: true, obs: obsOf(running())},
			"start a#0, start b#0"},
		{"sidecar not running: started; the next init container waits for it",
			planInput{pod: sidecarPod(false), complete: true, obs: obsOf(running())},
			"start side#0"},
		{"sidecar running, its startup probe not passed: nothing more starts",
			planInput{pod: sidecarPod(true), complete: true, obs: obsOf(running(), ctr("side", 0, "running", tok)),
				probes: map[string]probeInfo{"p-side-0": {started: false}}},
			""},
		{"sidecar running and started: the next init container starts",
			planInput{pod: sidecarPod(true), complete: true, obs: obsOf(running(), ctr("side", 0, "running", tok)),
				probes: map[string]probeInfo{"p-side-0": {started: true}}},
			"start init#0"},
		{"sidecar exited under restartPolicy Never: restarted all the same",
			planInput{pod: sidecarPod(false), complete: true, obs: obsOf(running(), ctr("side", 0, "exited:1", tok), ctr("init", 0, "exited:0", tok), ctr("app", 0, "running", tok))},
			"start side#1 (Error)"},

		// Restart policies and back-off.
		{"Always: a completed app is restarted",
			planInput{pod: app, complete: true, obs: obsOf(running(), ctr("app", 0, "exited:0", tok))},
			"start app#1 (Completed)"},
		{"OnFailure: a completed app stays down",
			planInput{pod: onFailure, complete: true, obs: obsOf(running(), ctr("app", 0, "exited:0", tok))},
			""},
		{"OnFailure: a failed app is restarted",
			planInput{pod: onFailure, complete: true, obs: obsOf(running(), ctr("app", 0, "exited:2", tok))},
			"start app#1 (Error)"},
		{"Never: a failed app stays down",
			planInput{pod: never, complete: true, obs: obsOf(running(), ctr("i1", 0, "exited:0", tok), ctr("app", 0, "exited:2", tok))},
			""},
		{"crash-loop back-off: the restart waits for the gate",
			planInput{pod: app, complete: true, obs: obsOf(running(), ctr("app", 1, "exited:1", tok)),
				gates: map[string]gate{"app": {forID: "p-app-1", due: planNow.Add(10 * time.Second)}}},
			" wake=10s"},
		{"a gate of an earlier exit does not hold back this one",
			planInput{pod: app, complete: true, obs: obsOf(running(), ctr("app", 1, "exited:1", tok)),
				gates: map[string]gate{"app": {forID: "p-app-0", due: planNow.Add(10 * time.Second)}}},
			"start app#2 (Error)"},
		{"the runtime cannot make a task under this ID (containerd killed while it made it): the container is made anew as the next attempt",
			planInput{pod: app, complete: true, obs: obsOf(running(), ctr("app", 0, "created", tok)),
				failures: map[string]containerError{"app": {reason: "RunContainerError", due: planNow, leftover: true, forID: "p-app-0"}}},
			"remove p-app-0 (its task cannot be made) | start app#1"},
		{"a failed start waits for its retry delay",
			planInput{pod: app, complete: true, obs: obsOf(running()),
				failures: map[string]containerError{"app": {reason: "ErrImagePull", due: planNow.Add(20 * time.Second)}}},
			" wake=20s"},
		{"an app in an unknown state is left alone",
			planInput{pod: app, complete: true, obs: obsOf(running(), ctr("app", 0, "unknown", tok))},
			""},
		{"the restart after a liveness kill says so",
			planInput{pod: app, complete: true, obs: obsOf(running(), ctr("app", 0, "exited:137", tok)),
				killing: map[string]string{"p-app-0": "LivenessProbe"}},
			"start app#1 (LivenessProbe)"},

		// Probes.
		{"liveness failed: killed in the background with the probe's grace",
			planInput{pod: probed, complete: true, obs: obsOf(running(), ctr("app", 0, "running", tok)),
				probes: map[string]probeInfo{"p-app-0": {started: true, failed: "LivenessProbe"}}},
			"kill-to-restart p-app-0 grace=5s (LivenessProbe)"},
		{"liveness failed, already being killed: nothing more",
			planInput{pod: probed, complete: true, obs: obsOf(running(), ctr("app", 0, "running", tok)),
				probes:  map[string]probeInfo{"p-app-0": {started: true, failed: "LivenessProbe"}},
				killing: map[string]string{"p-app-0": "LivenessProbe"}},
			""},

		// Attempts kept.
		{"attempts older than the previous one are removed, with their logs",
			planInput{pod: app, complete: true, obs: obsOf(running(), ctr("app", 0, "exited:1", tok), ctr("app", 1, "exited:1", tok), ctr("app", 2, "running", tok))},
			"remove p-app-0 (older than the previous attempt)"},

		// Termination.
		{"termination: containers get the grace period side by side, the pause goes last, then everything is removed",
			planInput{pod: two, complete: true, terminating: true, grace: 30 * time.Second,
				obs: func() observed {
					o := obsOf(running(), ctr("a", 0, "running", tok), ctr("b", 0, "exited:0", tok), ctr("b", 1, "running", tok))
					o.orphanSnapshots = []string{"p-b-2"}
					return o
				}()},
			"kill p-a-0 grace=30s (Terminating), kill p-b-1 grace=30s (Terminating) | kill p-pod grace=2s (Terminating) | " +
				"remove p-a-0, remove p-b-0, remove p-b-1, remove p-pod, remove-snapshot p-b-2 | remove-pod"},
		{"termination of a pod half made (task created, never started): removed without a kill",
			planInput{pod: app, terminating: true, grace: 30 * time.Second, obs: obsOf(sandboxC(runtime.StateCreated, tok), ctr("app", 0, "created", tok))},
			"remove p-app-0, remove p-pod | remove-pod"},
		{"termination with nothing left in the runtime: the host side is released",
			planInput{pod: app, terminating: true, grace: 30 * time.Second, obs: obsOf(nil)},
			"remove-pod"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.now = planNow
			got := render(plan(c.in))
			if got != c.want {
				t.Errorf("plan:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// made is c as made from image img, with no cpu and memory (its labels).
func made(c runtime.Container, img string) runtime.Container {
	c.Labels[labelImage] = img
	c.Labels[labelResources] = "{}"
	return c
}

// TestPlanImageChanged: the API server changed an image of a running pod
// (busybox:1 → busybox:2 below): as the kubelet, a running container of
// the old image is killed and started again whatever the restart policy
// and without back-off; a running sidecar too, and the containers after it
// go on; a running init container is waited for; an exited container
// follows its policy unless it ran when the image changed.
func TestPlanImageChanged(t *testing.T) {
	running := func() *runtime.Container { return sandboxC(runtime.StateRunning, tok) }
	upgrade := func(pod *v1.Pod) *v1.Pod {
		pod = pod.DeepCopy()
		for i := range pod.Spec.InitContainers {
			pod.Spec.InitContainers[i].Image = "busybox:2"
		}
		for i := range pod.Spec.Containers {
			pod.Spec.Containers[i].Image = "busybox:2"
		}
		return pod
	}
	changedAt := planNow.Add(-10 * time.Second)
	never := upgrade(newPod(v1.RestartPolicyNever, nil, "app"))
	always := upgrade(newPod(v1.RestartPolicyAlways, nil, "app"))
	inits := upgrade(newPod(v1.RestartPolicyAlways, []string{"i1"}, "app"))
	sidecar := upgrade(sidecarPod(false))
	exitedEarly := made(ctr("app", 0, "exited:1", tok), "busybox:1")
	exitedEarly.FinishedAt = changedAt.Add(-time.Minute)
	cases := []struct {
		name string
		in   planInput
		want string
	}{
		{"a running app of the old image is killed in the background, with the pod's grace",
			planInput{pod: never, obs: obsOf(running(), made(ctr("app", 0, "running", tok), "busybox:1"))},
			"kill-to-restart p-app-0 grace=30s (DefinitionChanged)"},
		{"already being killed: nothing more",
			planInput{pod: never, obs: obsOf(running(), made(ctr("app", 0, "running", tok), "busybox:1")),
				killing: map[string]string{"p-app-0": ReasonDefinitionChanged}},
			""},
		{"killed: started again under restartPolicy Never, past its back-off gate",
			planInput{pod: never, obs: obsOf(running(), made(ctr("app", 0, "exited:143", tok), "busybox:1")),
				gates: map[string]gate{"app": {forID: "p-app-0", due: planNow.Add(time.Minute)}}},
			"start app#1 (DefinitionChanged)"},
		{"exited before the change under Never: stays down",
			planInput{pod: never, obs: obsOf(running(), exitedEarly)},
			""},
		{"exited before the change under Always: its back-off holds",
			planInput{pod: always, obs: obsOf(running(), exitedEarly),
				gates: map[string]gate{"app": {forID: "p-app-0", due: planNow.Add(time.Minute)}}},
			" wake=1m0s"},
		{"made for the old image, never started: made again as the same attempt",
			planInput{pod: always, obs: obsOf(running(), made(ctr("app", 0, "created", tok), "busybox:1"))},
			"remove p-app-0 (made for an image no longer wanted) | start app#0"},
		{"already of the new image: nothing",
			planInput{pod: always, obs: obsOf(running(), made(ctr("app", 1, "running", tok), "busybox:2"))},
			""},
		{"made by a minilet without the labels: its image taken as current, its cgroup set again (as the kubelet without an actuated record)",
			planInput{pod: always, obs: obsOf(running(), ctr("app", 0, "running", tok))},
			"resize p-app-0"},
		{"a running init container of the old image is waited for",
			planInput{pod: inits, obs: obsOf(running(), made(ctr("i1", 0, "running", tok), "busybox:1"))},
			""},
		{"a completed init container of the old image does not run again",
			planInput{pod: inits, obs: obsOf(running(), made(ctr("i1", 0, "exited:0", tok), "busybox:1"), made(ctr("app", 0, "running", tok), "busybox:2"))},
			""},
		{"a running sidecar of the old image is restarted; the rest goes on",
			planInput{pod: sidecar, obs: obsOf(running(), made(ctr("side", 0, "running", tok), "busybox:1")),
				probes: map[string]probeInfo{"p-side-0": {started: true}}},
			"kill-to-restart p-side-0 grace=30s (DefinitionChanged) | start init#0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.now, c.in.complete, c.in.specChangedAt = planNow, true, changedAt
			if got := render(plan(c.in)); got != c.want {
				t.Errorf("plan:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestPlanRestart: a restart request stops every container running from
// before it (side by side, with the pod's grace), then runs the init
// containers again in order, then the apps, whatever their restart policy
// and back-off; attempts from after the request are left alone.
func TestPlanRestart(t *testing.T) {
	sb := func() *runtime.Container { return sandboxC(runtime.StateRunning, tok) }
	at := planNow.Add(-30 * time.Second)
	since := func(c runtime.Container) runtime.Container { // started after the request
		c.StartedAt = planNow.Add(-10 * time.Second)
		return c
	}
	inits := newPod(v1.RestartPolicyNever, []string{"i1", "i2"}, "app")
	side := sidecarPod(false)
	app := newPod(v1.RestartPolicyAlways, nil, "app")
	cases := []struct {
		name string
		in   planInput
		want string
	}{
		{"running containers from before are stopped together, the sandbox kept",
			planInput{pod: side, complete: true, restartAt: at, obs: obsOf(sb(), ctr("side", 0, "running", tok), ctr("init", 0, "exited:0", tok), ctr("app", 0, "running", tok))},
			"kill p-app-0 grace=30s (Restarted), kill p-side-0 grace=30s (Restarted)"},
		{"then the first init container runs again, not the apps",
			planInput{pod: inits, complete: true, restartAt: at, obs: obsOf(sb(), ctr("i1", 0, "exited:0", tok), ctr("i2", 0, "exited:0", tok), ctr("app", 0, "exited:137", tok))},
			"start i1#1 (Restarted)"},
		{"the init containers done again, the app runs though its policy is Never",
			planInput{pod: inits, complete: true, restartAt: at, obs: obsOf(sb(), since(ctr("i1", 1, "exited:0", tok)), since(ctr("i2", 1, "exited:0", tok)), ctr("app", 0, "exited:137", tok))},
			"start app#1 (Restarted)"},
		{"a back-off from before the request does not hold the restart",
			planInput{pod: app, complete: true, restartAt: at, obs: obsOf(sb(), ctr("app", 3, "exited:1", tok)),
				gates: map[string]gate{"app": {forID: "p-app-3", due: planNow.Add(time.Minute)}}},
			"start app#4 (Restarted)"},
		{"everything running since the request: nothing to do",
			planInput{pod: app, complete: true, restartAt: at, obs: obsOf(sb(), ctr("app", 0, "exited:137", tok), since(ctr("app", 1, "running", tok)))},
			""},
		{"a crash after the request restarts by the policy, with its back-off",
			planInput{pod: app, complete: true, restartAt: at, obs: obsOf(sb(), since(ctr("app", 1, "exited:1", tok))),
				gates: map[string]gate{"app": {forID: "p-app-1", due: planNow.Add(10 * time.Second)}}},
			" wake=10s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.now = planNow
			if got := render(plan(c.in)); got != c.want {
				t.Errorf("plan:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestPlanEvicted(t *testing.T) {
	app := newPod(v1.RestartPolicyAlways, []string{"init"}, "app")
	running := sandboxC(runtime.StateRunning, tok)
	stopped := sandboxC(runtime.StateExited, tok)
	cases := []struct {
		name string
		in   planInput
		want string
	}{
		{"every running container stops with the eviction's grace, then the pause",
			planInput{pod: app, complete: true, evicted: true, volumesKept: true, grace: time.Second,
				obs: obsOf(running, ctr("init", 0, "exited:0", tok), ctr("app", 0, "running", tok))},
			"kill p-app-0 grace=1s (Evicted) | kill p-pod grace=2s (Evicted)"},
		{"nothing runs: the volumes go",
			planInput{pod: app, complete: true, evicted: true, volumesKept: true, grace: time.Second,
				obs: obsOf(stopped, ctr("init", 0, "exited:0", tok), ctr("app", 0, "exited:137", tok))},
			"remove-volumes (Evicted)"},
		{"volumes gone: nothing more, never a restart whatever the policy",
			planInput{pod: app, complete: true, evicted: true, grace: time.Second,
				obs: obsOf(stopped, ctr("app", 0, "exited:137", tok))},
			""},
		{"a removed manifest still tears the evicted pod down",
			planInput{pod: app, complete: true, evicted: true, terminating: true, grace: time.Second,
				obs: obsOf(stopped, ctr("app", 0, "exited:137", tok))},
			"remove p-app-0, remove p-pod | remove-pod"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.now = planNow
			if got := render(plan(c.in)); got != c.want {
				t.Errorf("plan:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}
