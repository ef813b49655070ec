package pod

import (
	"fmt"
	"sort"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/restart"
	"github.com/minilet/minilet/pkg/runtime"
)

// actionKind names one thing the worker can do to a pod.
type actionKind string

const (
	// actKill stops a container: preStop hook (with grace), stop signal,
	// grace, SIGKILL; it returns once the container has exited.
	actKill actionKind = "kill"
	// actKillToRestart is actKill in the background, for a container
	// that starts again afterwards: its liveness or startup probe failed,
	// the API server changed its image, or its resize requires a restart.
	actKillToRestart actionKind = "kill-to-restart"
	// actRemove deletes a container's task, the container and its snapshot
	// (and, with logsBefore > 0, its logs of older attempts).
	actRemove actionKind = "remove"
	// actRemoveSnapshot deletes a snapshot that has no container.
	actRemoveSnapshot actionKind = "remove-snapshot"
	// actMakeSandbox makes the pod's sandbox: record, host dirs, netns,
	// CNI, pause container, hosts files. Every step tolerates what an
	// earlier, interrupted attempt left.
	actMakeSandbox actionKind = "make-sandbox"
	// actStart creates one attempt of a container (unless it exists) and
	// starts its task (whatever state the task is in).
	actStart actionKind = "start"
	// actWriteVolumes writes the files of the pod's configMap, secret,
	// downwardAPI and projected volumes that changed.
	actWriteVolumes actionKind = "write-volumes"
	// actResize gives a running container's cgroup the cpu and memory
	// the pod's record allocates it (in-place resize).
	actResize actionKind = "resize"
	// actRemovePod releases the pod's network and removes its netns,
	// files, mounts, cgroup and logs: the last step of a teardown.
	actRemovePod actionKind = "remove-pod"
	// actRemoveVolumes tears down the volumes of an evicted pod whose
	// containers have stopped.
	actRemoveVolumes actionKind = "remove-volumes"
)

// action is one step of a plan.
type action struct {
	kind       actionKind
	id         string        // container (or snapshot) ID
	name       string        // container name
	typ        string        // start: podsandbox.TypeInit or TypeApp
	attempt    int           // start: the attempt (restartCount) to make
	grace      time.Duration // kill
	signal     string        // kill: the image's STOPSIGNAL ("": SIGTERM)
	reason     string        // why: logs, events, the restart metric
	logsBefore int           // remove: also remove the container's logs of attempts before this
}

func (a action) String() string {
	s := string(a.kind)
	if a.id != "" {
		s += " " + a.id
	}
	if a.kind == actStart {
		s += fmt.Sprintf(" %s#%d", a.name, a.attempt)
	}
	if a.kind == actKill || a.kind == actKillToRestart {
		s += " grace=" + a.grace.String()
	}
	if a.reason != "" {
		s += " (" + a.reason + ")"
	}
	return s
}

// podPlan is what one pass of a sync does: steps in order, the actions of
// one step side by side.
type podPlan struct {
	steps [][]action
	// wake is when to look again if nothing else wakes the worker first
	// (a back-off ending); 0: only on events.
	wake time.Duration
}

func (p *podPlan) step(as ...action) {
	if len(as) > 0 {
		p.steps = append(p.steps, as)
	}
}

func (p *podPlan) waitFor(d time.Duration) { p.wake = minPositive(p.wake, d) }

// planInput is everything plan decides from: the desired pod, what the
// runtime holds, and what the worker remembers.
type planInput struct {
	pod *v1.Pod
	// complete: the pod's record holds its IPs, so the sandbox was
	// finished (network attached, files written). A running pause
	// without them was left half-made.
	complete    bool
	obs         observed
	terminating bool
	grace       time.Duration             // termination grace period
	gates       map[string]gate           // crash-loop back-off, by container name
	failures    map[string]containerError // last failed start, by container name
	probes      map[string]probeInfo      // by container ID (running instances)
	killing     map[string]string         // container ID → why minilet kills it (in flight or done)
	volumes     volumeInput               // volumes whose files come from objects
	// deadline is when spec.activeDeadlineSeconds ends (zero: none).
	deadline time.Time
	// restartAt is when the pod was last asked to restart (minilet
	// restart pod; zero: never): attempts started before it run again.
	restartAt time.Time
	// specChangedAt is when the API server last changed an image of
	// the running pod, or its resources were resized (zero: never): a
	// container that was running then with an older image (or resources
	// it restarts for) starts again with the new ones.
	specChangedAt time.Time
	// resizeFailures are the failed cgroup updates, by container ID.
	resizeFailures map[string]resizeFailure
	// evicted: the pod was evicted (node pressure): it stops for good,
	// with grace, and its volumes go once its containers have stopped
	// (volumesKept: they are still there).
	evicted     bool
	volumesKept bool
	now         time.Time
}

// stale reports whether c is an attempt from before the pod's last
// restart request, which must be stopped (if it runs) and run again.
func (in planInput) stale(c *runtime.Container) bool {
	return beforeRestart(c, in.restartAt)
}

// beforeRestart: c started (or, start time unknown, was made) before the
// restart requested at at.
func beforeRestart(c *runtime.Container, at time.Time) bool {
	if at.IsZero() || c == nil || c.State == runtime.StateCreated {
		return false
	}
	t := c.StartedAt
	if t.IsZero() {
		t = c.CreatedAt
	}
	return t.Before(at)
}

// outdated reports whether c was made from another image than spec names
// now: the API server changed the image of the running pod. (A container
// made before minilet labelled images is taken as current.)
func outdated(spec *v1.Container, c *runtime.Container) bool {
	if c == nil || spec == nil {
		return false
	}
	img, ok := c.Labels[labelImage]
	return ok && img != spec.Image
}

// restartsForChange reports whether c, exited, starts again because its
// image changed, or it was resized with a RestartContainer policy, while
// it ran (it was killed for that, or exited on its own meanwhile):
// whatever the restart policy and without back-off, as the kubelet
// restarts a container whose definition changed or whose resize requires
// a restart.
func (in planInput) restartsForChange(spec *v1.Container, c *runtime.Container) bool {
	if c == nil || c.State != runtime.StateExited || in.specChangedAt.IsZero() {
		return false
	}
	if _, restart := in.resizeOf(spec, c); !outdated(spec, c) && !restart {
		return false
	}
	return c.FinishedAt.IsZero() || !c.FinishedAt.Before(in.specChangedAt)
}

// deadlineExceeded reports whether the pod has run past its
// activeDeadlineSeconds: the kubelet then kills it, and it is Failed
// (DeadlineExceeded) for good.
func (in planInput) deadlineExceeded() bool {
	return !in.deadline.IsZero() && !in.now.Before(in.deadline)
}

// probeInfo is what the probes say of one running container instance.
type probeInfo struct {
	started bool   // startup probe passed (or none)
	failed  string // "LivenessProbe" or "StartupProbe" when that probe failed; ""
}

// plan decides the next steps for a pod from its observed state. It is a
// pure function: every kubelet rule minilet follows is here (sandbox
// (re)creation, init / sidecar / app order, restart policies and back-off,
// probe kills, termination with grace), and so is the cleanup of whatever a
// crash of the daemon, of containerd or of the host left half-made. The
// worker applies the steps, observes again and plans again until a plan
// has no steps.
func plan(in planInput) podPlan {
	if in.terminating {
		return planTermination(in)
	}
	if in.evicted {
		return planStopForGood(in, ReasonEvicted)
	}
	if in.deadlineExceeded() {
		return planStopForGood(in, ReasonDeadlineExceeded)
	}
	var p podPlan
	if !in.deadline.IsZero() {
		p.waitFor(in.deadline.Sub(in.now))
	}
	o := in.obs
	sandboxOK := o.sandbox != nil && o.sandbox.State == runtime.StateRunning && in.complete

	// Containers that cannot run again: those of another sandbox (a pause
	// that died, a host that rebooted), or of a sandbox about to be made
	// again. Running ones are killed; ones that never started are removed.
	var kills, removes []action
	for _, name := range sortedNames(o) {
		for _, c := range o.byName[name] {
			if sandboxOK && o.belongs(&c) {
				continue
			}
			switch {
			case c.State == runtime.StateRunning || c.State == runtime.StateUnknown:
				kills = append(kills, action{kind: actKill, id: c.ID, name: name, signal: c.Labels[labelStopSignal], reason: "SandboxChanged"})
			case c.State == runtime.StateCreated && c.StartedAt.IsZero():
				removes = append(removes, action{kind: actRemove, id: c.ID, name: name, reason: "never started in its sandbox"})
			}
		}
	}
	p.step(kills...)
	for _, k := range o.orphanSnapshots {
		removes = append(removes, action{kind: actRemoveSnapshot, id: k, reason: "snapshot without container"})
	}
	p.step(removes...)

	if !sandboxOK {
		var remake []action
		changed := false
		if o.sandbox != nil {
			changed = in.complete || o.sandbox.State != runtime.StateCreated
			remake = append(remake, action{kind: actRemove, id: o.sandbox.ID, reason: "sandbox " + string(o.sandbox.State) + sandboxNote(in.complete)})
		}
		p.step(remake...)
		if in.volumes.err != nil {
			// As the kubelet mounts volumes before it makes the
			// sandbox: the pod waits (a change of the objects wakes
			// it sooner).
			p.waitFor(volumeRetryDelay)
			return p
		}
		if in.volumes.due {
			p.step(action{kind: actWriteVolumes})
		}
		reason := ""
		if changed {
			reason = "SandboxChanged"
		}
		p.step(action{kind: actMakeSandbox, reason: reason})
		return p // the containers wait for the new sandbox
	}
	if in.volumes.due {
		// An update of a running pod's files: it does not wait for
		// anything else, and restarts nothing.
		p.step(action{kind: actWriteVolumes})
	}

	if kills := planRestartKills(in); len(kills) > 0 {
		// A restart stops every container first, so the init containers
		// run again before any app (as at the pod's first start).
		p.step(kills...)
		return p
	}
	initDone := planInit(in, &p)
	if initDone {
		planApps(in, &p)
	}
	planEphemeral(in, &p)
	p.step(planProbeKills(in)...)
	p.step(planOldAttempts(in)...)
	return p
}

func sandboxNote(complete bool) string {
	if complete {
		return ""
	}
	return ", left half-made"
}

// planInit runs init containers one at a time, in order; a sidecar
// (restartPolicy Always) must be running and started for the next to
// start, and is restarted whenever it exits. It reports whether every init
// container is done, so the apps may run.
func planInit(in planInput, p *podPlan) bool {
	pod := in.pod
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cur := current(in.obs, c.Name)
		if isSidecar(c) {
			if cur == nil || cur.State != runtime.StateRunning {
				if cur != nil && cur.State == runtime.StateUnknown {
					return false
				}
				if a, ok := startOrWait(in, p, c, podsandbox.TypeInit, cur); ok {
					p.step(a)
				}
				return false // the next looks again once it runs
			}
			// As the kubelet: a running sidecar whose image changed is
			// restarted, one resized is resized; the containers after it
			// go on.
			if a, ok := planChanged(in, p, c, cur); ok {
				p.step(a)
			}
			if !in.probes[cur.ID].started {
				return false // its startup probe's result wakes the worker
			}
			continue
		}
		if cur != nil && cur.State == runtime.StateExited && cur.ExitCode == 0 && !in.stale(cur) {
			continue
		}
		switch {
		case cur != nil && (cur.State == runtime.StateRunning || cur.State == runtime.StateUnknown):
			// waits for its exit
		case cur != nil && cur.State == runtime.StateExited && pod.Spec.RestartPolicy == v1.RestartPolicyNever && !in.stale(cur):
			// the pod has failed
		default:
			if a, ok := startOrWait(in, p, c, podsandbox.TypeInit, cur); ok {
				p.step(a)
			}
		}
		return false
	}
	return true
}

// planApps starts or restarts the app containers that need it, side by
// side: they are independent once the init containers are done. A running
// one whose image the API server changed is killed to start again; one
// whose resources were resized is resized (or restarted, as its
// resizePolicy says).
func planApps(in planInput, p *podPlan) {
	var starts, changes []action
	for i := range in.pod.Spec.Containers {
		c := &in.pod.Spec.Containers[i]
		cur := current(in.obs, c.Name)
		if cur != nil && (cur.State == runtime.StateRunning || cur.State == runtime.StateUnknown) {
			if cur.State == runtime.StateRunning {
				if a, ok := planChanged(in, p, c, cur); ok {
					changes = append(changes, a)
				}
			}
			continue
		}
		if cur != nil && cur.State == runtime.StateExited && !restart.ShouldRestart(in.pod.Spec.RestartPolicy, cur.ExitCode) && !in.stale(cur) && !in.restartsForChange(c, cur) {
			continue
		}
		if a, ok := startOrWait(in, p, c, podsandbox.TypeApp, cur); ok {
			starts = append(starts, a)
		}
	}
	p.step(changes...)
	p.step(starts...)
}

// ReasonDefinitionChanged is why a container whose image the API server
// changed is killed and started again (the restart metric's reason).
const ReasonDefinitionChanged = "DefinitionChanged"

// planChanged is what a running container needs after an in-place change
// of its pod: a kill so that it starts again from its new image, or its
// resize (planResize); false: nothing, or its kill is under way.
func planChanged(in planInput, p *podPlan, spec *v1.Container, cur *runtime.Container) (action, bool) {
	if outdated(spec, cur) {
		if in.killing[cur.ID] != "" {
			return action{}, false
		}
		return killToRestart(in, cur, spec.Name, ReasonDefinitionChanged), true
	}
	return planResize(in, p, spec, cur)
}

// killToRestart stops cur in the background, with its preStop hook and
// the pod's grace period, so that it starts again.
func killToRestart(in planInput, cur *runtime.Container, name, reason string) action {
	grace := time.Duration(gracePeriod(in.pod)) * time.Second
	return action{kind: actKillToRestart, id: cur.ID, name: name, grace: grace, signal: cur.Labels[labelStopSignal], reason: reason}
}

// planEphemeral starts each ephemeral container (minilet debug) once, as
// the kubelet does, whether or not the init containers are done; it is
// never restarted. One whose target container is not running waits for
// it; a failed start is retried after its delay.
func planEphemeral(in planInput, p *podPlan) {
	var starts []action
	for i := range in.pod.Spec.EphemeralContainers {
		ec := &in.pod.Spec.EphemeralContainers[i]
		if l := in.obs.latest(ec.Name); l != nil && (l.State != runtime.StateCreated || !l.StartedAt.IsZero() || !in.obs.belongs(l)) {
			continue // made once: never again
		}
		if t := ec.TargetContainerName; t != "" {
			if cur := current(in.obs, t); cur == nil || cur.State != runtime.StateRunning {
				continue
			}
		}
		if f, ok := in.failures[ec.Name]; ok && in.now.Before(f.due) {
			p.waitFor(f.due.Sub(in.now))
			continue
		}
		starts = append(starts, action{kind: actStart, name: ec.Name, typ: podsandbox.TypeEphemeral})
	}
	p.step(starts...)
}

// startOrWait is the start of c's next attempt, unless a crash-loop
// back-off or a failed start's retry delay holds it back (then p wakes
// when it ends). cur is c's latest attempt in the running sandbox.
func startOrWait(in planInput, p *podPlan, c *v1.Container, typ string, cur *runtime.Container) (action, bool) {
	changed := in.restartsForChange(c, cur)
	if cur != nil && cur.State == runtime.StateExited && !in.stale(cur) && !changed {
		if g, ok := in.gates[c.Name]; ok && g.forID == cur.ID && in.now.Before(g.due) {
			p.waitFor(g.due.Sub(in.now))
			return action{}, false
		}
	}
	if f, ok := in.failures[c.Name]; ok && in.now.Before(f.due) {
		p.waitFor(f.due.Sub(in.now))
		return action{}, false
	}
	a := action{kind: actStart, name: c.Name, typ: typ, attempt: nextAttempt(in.obs, c.Name)}
	if f, ok := in.failures[c.Name]; ok && f.leftover && cur != nil && cur.ID == f.forID && cur.State == runtime.StateCreated {
		// The runtime cannot make a task under this ID: the container is
		// made anew as the next attempt.
		p.step(action{kind: actRemove, id: cur.ID, name: c.Name, reason: "its task cannot be made"})
		a.attempt = restartCountOf(cur) + 1
		return a, true
	}
	if cur != nil && cur.State == runtime.StateCreated && outdated(c, cur) {
		// Made for the old image and never started: made again.
		p.step(action{kind: actRemove, id: cur.ID, name: c.Name, reason: "made for an image no longer wanted"})
		return a, true
	}
	if cur != nil && cur.State == runtime.StateExited {
		a.reason = terminated(cur).Reason
		if r := in.killing[cur.ID]; r != "" {
			a.reason = r
		}
		if changed && outdated(c, cur) {
			a.reason = ReasonDefinitionChanged
		} else if changed {
			a.reason = ReasonResizeRestart
		}
		if in.stale(cur) {
			a.reason = ReasonRestarted
		}
	}
	if cur == nil && in.obs.latest(c.Name) != nil {
		a.reason = "SandboxChanged"
	}
	return a, true
}

// current is c's latest attempt if it belongs to the running sandbox; an
// attempt made for another sandbox is history, never started again.
func current(o observed, name string) *runtime.Container {
	l := o.latest(name)
	if l == nil || !o.belongs(l) {
		return nil
	}
	return l
}

// nextAttempt is the attempt number of c's next start: the latest one's
// again if it was made in this sandbox and never ran (a start that died
// half-way), else one more than the latest.
func nextAttempt(o observed, name string) int {
	l := o.latest(name)
	if l == nil {
		return 0
	}
	if l.State == runtime.StateCreated && o.belongs(l) {
		return restartCountOf(l)
	}
	return restartCountOf(l) + 1
}

// ReasonRestarted is why the containers of a pod restarted by `minilet
// restart pod` stopped and started again: their lastState reason, the
// restart metric's reason.
const ReasonRestarted = "Restarted"

// planRestartKills stops, with the pod's grace period and side by side,
// every container still running from before a restart request.
func planRestartKills(in planInput) []action {
	if in.restartAt.IsZero() {
		return nil
	}
	grace := time.Duration(gracePeriod(in.pod)) * time.Second
	var out []action
	for _, name := range sortedNames(in.obs) {
		cur := current(in.obs, name)
		if cur == nil || (cur.State != runtime.StateRunning && cur.State != runtime.StateUnknown) || !in.stale(cur) {
			continue
		}
		out = append(out, action{kind: actKill, id: cur.ID, name: name, grace: grace, signal: cur.Labels[labelStopSignal], reason: ReasonRestarted})
	}
	return out
}

// planProbeKills kills the running containers whose liveness or startup
// probe failed, in the background (the grace period may be long), with the
// probe's terminationGracePeriodSeconds if set, else the pod's.
func planProbeKills(in planInput) []action {
	specs := containerSpecs(in.pod)
	var out []action
	for _, name := range sortedNames(in.obs) {
		cur := current(in.obs, name)
		spec := specs[name]
		if cur == nil || spec == nil || cur.State != runtime.StateRunning {
			continue
		}
		why := in.probes[cur.ID].failed
		if why == "" || in.killing[cur.ID] != "" {
			continue
		}
		pr := spec.LivenessProbe
		if why == "StartupProbe" {
			pr = spec.StartupProbe
		}
		a := killToRestart(in, cur, name, why)
		if pr != nil && pr.TerminationGracePeriodSeconds != nil {
			a.grace = time.Duration(*pr.TerminationGracePeriodSeconds) * time.Second
		}
		out = append(out, a)
	}
	return out
}

// planOldAttempts removes attempts older than the previous one, with their
// logs: the previous one is kept for lastState and `logs --previous`, as
// the kubelet keeps it. A container that crash-loops for days thus keeps
// two, not one per restart.
func planOldAttempts(in planInput) []action {
	var out []action
	for _, name := range sortedNames(in.obs) {
		list := in.obs.byName[name]
		if len(list) < 3 {
			continue
		}
		keepFrom := restartCountOf(&list[len(list)-1]) - 1
		for _, c := range list[:len(list)-2] {
			if c.State == runtime.StateRunning || c.State == runtime.StateUnknown {
				continue // killed first, removed on a later pass
			}
			out = append(out, action{kind: actRemove, id: c.ID, name: name, logsBefore: keepFrom, reason: "older than the previous attempt"})
		}
	}
	return out
}

// planTermination stops the pod and removes all it made: every container
// gets its preStop hook and grace (side by side), the pause goes last, then
// containers, snapshots, network, files, cgroup and logs are removed.
func planTermination(in planInput) podPlan {
	var p podPlan
	o := in.obs
	var kills, removes []action
	for _, name := range sortedNames(o) {
		for _, c := range o.byName[name] {
			if c.State == runtime.StateRunning || c.State == runtime.StateUnknown {
				kills = append(kills, action{kind: actKill, id: c.ID, name: name, grace: in.grace, signal: c.Labels[labelStopSignal], reason: "Terminating"})
			}
			removes = append(removes, action{kind: actRemove, id: c.ID, name: name})
		}
	}
	p.step(kills...)
	if sb := o.sandbox; sb != nil {
		if sb.State == runtime.StateRunning || sb.State == runtime.StateUnknown {
			p.step(action{kind: actKill, id: sb.ID, grace: minGrace, reason: "Terminating"})
		}
		removes = append(removes, action{kind: actRemove, id: sb.ID})
	}
	for _, k := range o.orphanSnapshots {
		removes = append(removes, action{kind: actRemoveSnapshot, id: k})
	}
	p.step(removes...)
	p.step(action{kind: actRemovePod})
	return p
}

// planStopForGood kills a pod past its activeDeadlineSeconds, or evicted,
// as the kubelet does: every container with the grace period, then the
// pause; nothing is started or made again, and the pod stays (Failed)
// until its manifest changes or goes. An evicted pod's volumes go once
// nothing runs.
func planStopForGood(in planInput, reason string) podPlan {
	var p podPlan
	o := in.obs
	var kills []action
	for _, name := range sortedNames(o) {
		for _, c := range o.byName[name] {
			if c.State == runtime.StateRunning || c.State == runtime.StateUnknown {
				kills = append(kills, action{kind: actKill, id: c.ID, name: name, grace: in.grace, signal: c.Labels[labelStopSignal], reason: reason})
			}
		}
	}
	p.step(kills...)
	sb := o.sandbox
	sandboxRuns := sb != nil && (sb.State == runtime.StateRunning || sb.State == runtime.StateUnknown)
	if sandboxRuns {
		p.step(action{kind: actKill, id: sb.ID, grace: minGrace, reason: reason})
	}
	if in.evicted && in.volumesKept && len(kills) == 0 && !sandboxRuns {
		p.step(action{kind: actRemoveVolumes, reason: reason})
	}
	return p
}

// ReasonEvicted is an evicted pod's status reason (the kubelet's).
const ReasonEvicted = "Evicted"

// The kubelet's words for a pod past its activeDeadlineSeconds.
const (
	ReasonDeadlineExceeded  = "DeadlineExceeded"
	MessageDeadlineExceeded = "Pod was active on the node longer than the specified deadline"
)

func sortedNames(o observed) []string {
	names := make([]string, 0, len(o.byName))
	for n := range o.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
