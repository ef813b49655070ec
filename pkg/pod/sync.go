package pod

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/restart"
	"github.com/minilet/minilet/pkg/runtime"
)

// podContainers is what the runtime holds of one pod, grouped.
type podContainers struct {
	sandbox *runtime.Container
	byName  map[string][]runtime.Container // attempts, oldest first
}

func (pc podContainers) latest(name string) *runtime.Container {
	list := pc.byName[name]
	if len(list) == 0 {
		return nil
	}
	return &list[len(list)-1]
}

func (pc podContainers) previous(name string) *runtime.Container {
	list := pc.byName[name]
	if len(list) < 2 {
		return nil
	}
	return &list[len(list)-2]
}

func restartCountOf(c *runtime.Container) int {
	n, _ := strconv.Atoi(c.Labels[podsandbox.LabelRestartCount])
	return n
}

// listPod reads the pod's containers from the runtime.
func (w *worker) listPod(ctx context.Context) (podContainers, error) {
	cs, err := w.d.rt.ListContainers(ctx, map[string]string{podsandbox.LabelPodID: w.podID})
	if err != nil {
		return podContainers{}, err
	}
	pc := podContainers{byName: map[string][]runtime.Container{}}
	for i := range cs {
		c := cs[i]
		if c.Labels[podsandbox.LabelContainerType] == podsandbox.TypeSandbox {
			pc.sandbox = &c
			continue
		}
		name := c.Labels[podsandbox.LabelContainerName]
		pc.byName[name] = append(pc.byName[name], c)
	}
	for _, list := range pc.byName {
		sort.Slice(list, func(i, j int) bool { return restartCountOf(&list[i]) < restartCountOf(&list[j]) })
	}
	return pc, nil
}

// sync moves the pod one step toward its desired state and returns when it
// wants to be woken again (0: only on events).
func (w *worker) sync(ctx context.Context) time.Duration {
	if w.isTerminating() {
		w.teardown(ctx)
		return retryDelay
	}
	if b := w.blockedBy(); b != nil {
		w.setStatus(w.blockedStatus(b))
		return 0
	}
	rec := w.record()
	pod := rec.Pod
	var pc podContainers
	if w.fresh {
		// A pod this daemon just added has nothing in the runtime yet
		// (its pod.json did not exist, see adopt): no need to ask.
		pc = podContainers{byName: map[string][]runtime.Container{}}
		w.fresh = false
	} else {
		var err error
		if pc, err = w.listPod(ctx); err != nil {
			w.log.Warn("cannot list the pod's containers; will retry", zap.Error(err))
			return retryDelay
		}
	}
	if err := w.ensureSandbox(ctx, &rec, &pc); err != nil {
		w.events.record(v1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: "+err.Error(), "")
		w.log.Error("cannot create the pod sandbox; will retry", zap.Error(err))
		w.setStatus(w.buildStatus(rec, pc, err))
		return sandboxRetryDelay
	}

	next := time.Duration(0)
	now := w.d.now()
	initDone := true
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cur := pc.latest(c.Name)
		if isSidecar(c) {
			// A sidecar has to be running and started (its startup probe
			// passed, as the kubelet's computeInitContainerActions) for
			// the next init container to start; it is restarted whenever
			// it exits.
			if cur == nil || cur.State != runtime.StateRunning {
				d := w.startOrRestart(ctx, pod, c, podsandbox.TypeInit, cur, now)
				if d == 0 && c.StartupProbe == nil {
					continue // running, and started at once
				}
				next = minPositive(next, d)
				initDone = false
				break // waits its back-off, or its startup probe (which wakes us)
			}
			if started, _ := w.probeView(c, cur.ID); !started {
				initDone = false
				break // woken by its startup probe's result
			}
			continue
		}
		if cur != nil && cur.State == runtime.StateExited && cur.ExitCode == 0 {
			continue
		}
		initDone = false
		if cur != nil && cur.State == runtime.StateRunning {
			break
		}
		if cur != nil && cur.State == runtime.StateExited && pod.Spec.RestartPolicy == v1.RestartPolicyNever {
			break // the pod has failed
		}
		if d := w.startOrRestart(ctx, pod, c, podsandbox.TypeInit, cur, now); d > 0 {
			next = minPositive(next, d)
		}
		break
	}
	if initDone {
		next = minPositive(next, w.syncApps(ctx, pod, pc, now))
	}
	if pc2, err := w.listPod(ctx); err == nil {
		pc = pc2
	}
	w.syncProbes(ctx, pod, pc)
	st := w.buildStatus(rec, pc, nil)
	w.setStatus(st)
	w.observeStart(pod, st)
	return next
}

// observeStart reports, once, how long the pod took from its manifest
// being seen to all its containers running.
func (w *worker) observeStart(pod *v1.Pod, st v1.PodStatus) {
	if w.startCounted || st.Phase != v1.PodRunning {
		return
	}
	for _, cs := range st.ContainerStatuses {
		if cs.State.Running == nil {
			return
		}
	}
	w.startCounted = true
	took := w.d.now().Sub(w.firstSeen)
	w.d.obs.ObservePodStart(took)
	w.log.Info("pod running", zap.Duration("startedIn", took))
}

// syncApps starts or restarts the app containers that need it, in
// parallel: they are independent once the sandbox and init containers are
// done.
func (w *worker) syncApps(ctx context.Context, pod *v1.Pod, pc podContainers, now time.Time) time.Duration {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		next time.Duration
	)
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cur := pc.latest(c.Name)
		if cur != nil && (cur.State == runtime.StateRunning || cur.State == runtime.StateUnknown) {
			continue
		}
		if cur != nil && cur.State == runtime.StateExited && !restart.ShouldRestart(pod.Spec.RestartPolicy, cur.ExitCode) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d := w.startOrRestart(ctx, pod, c, podsandbox.TypeApp, cur, now); d > 0 {
				mu.Lock()
				next = minPositive(next, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return next
}

// isSidecar reports whether c is a restartable init container (a sidecar):
// restartPolicy Always on an init container.
func isSidecar(c *v1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways
}

// restartPolicyOf is the policy that decides c's restarts: a sidecar's own
// Always, else the pod's.
func restartPolicyOf(pod *v1.Pod, c *v1.Container) v1.RestartPolicy {
	if isSidecar(c) {
		return v1.RestartPolicyAlways
	}
	return pod.Spec.RestartPolicy
}

func minPositive(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	case a < b:
		return a
	}
	return b
}

// Retry delays of steps that failed for reasons outside the pod.
const (
	retryDelay        = 2 * time.Second
	sandboxRetryDelay = 5 * time.Second
)
