package printers

import (
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var testNow = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(testNow.Add(-d)) }

func running(ready bool) v1.ContainerStatus {
	return v1.ContainerStatus{Ready: ready, State: v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: ago(time.Hour)}}}
}

func waiting(reason string) v1.ContainerStatus {
	return v1.ContainerStatus{State: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: reason}}}
}

func terminated(reason string, code, signal int32) v1.ContainerStatus {
	return v1.ContainerStatus{State: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{Reason: reason, ExitCode: code, Signal: signal}}}
}

func named(name string, cs v1.ContainerStatus) v1.ContainerStatus { cs.Name = name; return cs }

// makePod builds a pod with one app container per status (c0, c1...) and
// one init container per init status (i0, i1...).
func makePod(phase v1.PodPhase, inits []v1.ContainerStatus, apps ...v1.ContainerStatus) v1.Pod {
	p := v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", CreationTimestamp: ago(10 * time.Minute)},
		Status:     v1.PodStatus{Phase: phase},
	}
	for i, cs := range inits {
		name := "i" + string(rune('0'+i))
		p.Spec.InitContainers = append(p.Spec.InitContainers, v1.Container{Name: name})
		p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, named(name, cs))
	}
	for i, cs := range apps {
		name := "c" + string(rune('0'+i))
		p.Spec.Containers = append(p.Spec.Containers, v1.Container{Name: name})
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, named(name, cs))
	}
	return p
}

func TestPodStatus(t *testing.T) {
	deleting := func(p v1.Pod) v1.Pod { ts := ago(time.Second); p.DeletionTimestamp = &ts; return p }
	withCond := func(p v1.Pod, typ v1.PodConditionType, st v1.ConditionStatus, reason string) v1.Pod {
		p.Status.Conditions = append(p.Status.Conditions, v1.PodCondition{Type: typ, Status: st, Reason: reason})
		return p
	}
	withReason := func(p v1.Pod, r string) v1.Pod { p.Status.Reason = r; return p }
	always := v1.ContainerRestartPolicyAlways
	started := true
	sidecar := makePod(v1.PodRunning, []v1.ContainerStatus{running(true)}, running(true))
	sidecar.Spec.InitContainers[0].RestartPolicy = &always
	sidecar.Status.InitContainerStatuses[0].Started = &started
	sidecarStarting := makePod(v1.PodPending, []v1.ContainerStatus{running(false)}, waiting("PodInitializing"))
	sidecarStarting.Spec.InitContainers[0].RestartPolicy = &always

	for _, tc := range []struct {
		name   string
		pod    v1.Pod
		status string
		ready  string
	}{
		{"running", makePod(v1.PodRunning, nil, running(true)), "Running", "1/1"},
		{"running not ready", makePod(v1.PodRunning, nil, running(false)), "Running", "0/1"},
		{"pending, no statuses", makePod(v1.PodPending, nil), "Pending", "0/0"},
		{"ContainerCreating", makePod(v1.PodPending, nil, waiting("ContainerCreating")), "ContainerCreating", "0/1"},
		{"CrashLoopBackOff", makePod(v1.PodRunning, nil, waiting("CrashLoopBackOff")), "CrashLoopBackOff", "0/1"},
		{"first container's reason wins", makePod(v1.PodPending, nil, waiting("ImagePullBackOff"), running(true)), "ImagePullBackOff", "1/2"},
		{"Error", makePod(v1.PodFailed, nil, terminated("Error", 1, 0)), "Error", "0/1"},
		{"Completed", makePod(v1.PodSucceeded, nil, terminated("Completed", 0, 0)), "Completed", "0/1"},
		{"OOMKilled", makePod(v1.PodRunning, nil, terminated("OOMKilled", 137, 0)), "OOMKilled", "0/1"},
		{"ExitCode", makePod(v1.PodFailed, nil, terminated("", 3, 0)), "ExitCode:3", "0/1"},
		{"Signal", makePod(v1.PodFailed, nil, terminated("", 137, 9)), "Signal:9", "0/1"},
		{"Init:0/2 waiting to start", makePod(v1.PodPending, []v1.ContainerStatus{waiting("PodInitializing"), waiting("PodInitializing")}, waiting("PodInitializing")), "Init:0/2", "0/1"},
		{"Init:0/2 running", makePod(v1.PodPending, []v1.ContainerStatus{running(false), waiting("")}, waiting("PodInitializing")), "Init:0/2", "0/1"},
		{"Init:1/2", makePod(v1.PodPending, []v1.ContainerStatus{terminated("Completed", 0, 0), running(false)}, waiting("PodInitializing")), "Init:1/2", "0/1"},
		{"Init:CrashLoopBackOff", makePod(v1.PodPending, []v1.ContainerStatus{waiting("CrashLoopBackOff")}, waiting("PodInitializing")), "Init:CrashLoopBackOff", "0/1"},
		{"Init:Error", makePod(v1.PodPending, []v1.ContainerStatus{terminated("Error", 1, 0)}, waiting("PodInitializing")), "Init:Error", "0/1"},
		{"Init:ExitCode", makePod(v1.PodPending, []v1.ContainerStatus{terminated("", 2, 0)}, waiting("PodInitializing")), "Init:ExitCode:2", "0/1"},
		{"Init:Signal", makePod(v1.PodPending, []v1.ContainerStatus{terminated("", 137, 15)}, waiting("PodInitializing")), "Init:Signal:15", "0/1"},
		{"init done", makePod(v1.PodRunning, []v1.ContainerStatus{terminated("Completed", 0, 0)}, running(true)), "Running", "1/1"},
		{"Terminating", deleting(makePod(v1.PodRunning, nil, running(true))), "Terminating", "1/1"},
		{"deleted but finished", deleting(makePod(v1.PodSucceeded, nil, terminated("Completed", 0, 0))), "Completed", "0/1"},
		{"deleted, node lost", withReason(deleting(makePod(v1.PodRunning, nil, running(true))), "NodeLost"), "Unknown", "1/1"},
		{"NotReady", makePod(v1.PodRunning, nil, terminated("Completed", 0, 0), running(true)), "NotReady", "1/2"},
		{"Completed but one still running and ready", withCond(makePod(v1.PodRunning, nil, running(true), terminated("Completed", 0, 0)), v1.PodReady, v1.ConditionTrue, ""), "Running", "1/2"},
		{"pod reason", withReason(makePod(v1.PodFailed, nil), "Evicted"), "Evicted", "0/0"},
		{"SchedulingGated", withCond(makePod(v1.PodPending, nil), v1.PodScheduled, v1.ConditionFalse, "SchedulingGated"), "SchedulingGated", "0/0"},
		{"sidecar", sidecar, "Running", "2/2"},
		{"sidecar starting", sidecarStarting, "Init:0/1", "0/2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := SummarizePod(&tc.pod)
			if s.Status != tc.status || s.ReadyColumn() != tc.ready {
				t.Errorf("status %q ready %q, want %q %q", s.Status, s.ReadyColumn(), tc.status, tc.ready)
			}
			if PodStatus(&tc.pod) != tc.status {
				t.Errorf("PodStatus disagrees with SummarizePod")
			}
		})
	}
}

func TestRestartsColumn(t *testing.T) {
	restarted := func(count int32, finished time.Duration) v1.ContainerStatus {
		cs := running(true)
		cs.RestartCount = count
		if finished > 0 {
			cs.LastTerminationState.Terminated = &v1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(finished)}
		}
		return cs
	}
	initRestarted := restarted(2, 40*time.Second)
	initRestarted.State = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
	always := v1.ContainerRestartPolicyAlways
	started := true
	sidecar := makePod(v1.PodRunning, []v1.ContainerStatus{restarted(1, 2*time.Minute)}, restarted(0, 0))
	sidecar.Spec.InitContainers[0].RestartPolicy = &always
	sidecar.Status.InitContainerStatuses[0].Started = &started
	for _, tc := range []struct {
		name string
		pod  v1.Pod
		want string
	}{
		{"none", makePod(v1.PodRunning, nil, restarted(0, 0)), "0"},
		{"with last termination", makePod(v1.PodRunning, nil, restarted(5, 5*time.Minute)), "5 (5m ago)"},
		{"summed, latest wins", makePod(v1.PodRunning, nil, restarted(2, time.Hour), restarted(3, 3*time.Minute+20*time.Second)), "5 (3m20s ago)"},
		{"count without a time", makePod(v1.PodRunning, nil, restarted(4, 0)), "4"},
		{"init container restarts while initializing", makePod(v1.PodPending, []v1.ContainerStatus{initRestarted}, waiting("PodInitializing")), "2 (40s ago)"},
		{"sidecar restarts count after init", sidecar, "1 (2m ago)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SummarizePod(&tc.pod).RestartsColumn(testNow); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAge(t *testing.T) {
	for _, tc := range []struct {
		t    metav1.Time
		want string
	}{
		{metav1.Time{}, "<unknown>"},
		{ago(5 * time.Second), "5s"},
		{ago(119 * time.Second), "119s"},
		{ago(3*time.Minute + 20*time.Second), "3m20s"},
		{ago(5 * time.Minute), "5m"},
		{ago(90 * time.Minute), "90m"},
		{ago(5*time.Hour + 7*time.Minute), "5h7m"},
		{ago(30 * time.Hour), "30h"},
		{ago(53 * time.Hour), "2d5h"},
		{ago(40 * 24 * time.Hour), "40d"},
		{ago(-5 * time.Second), "<invalid>"},
	} {
		if got := Age(tc.t, testNow); got != tc.want {
			t.Errorf("Age(now-%s) = %q, want %q", testNow.Sub(tc.t.Time), got, tc.want)
		}
	}
}
