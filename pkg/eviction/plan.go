package eviction

import (
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	"github.com/minilet/minilet/pkg/node"
)

// Config is how eviction acts, from the kubelet's flags.
type Config struct {
	Thresholds []Threshold
	// PressureTransitionPeriod is how long a pressure condition stays
	// after its thresholds were last met
	// (--eviction-pressure-transition-period, 5m).
	PressureTransitionPeriod time.Duration
	// MaxPodGracePeriod is the longest grace period a soft eviction
	// gives a pod, in seconds (--eviction-max-pod-grace-period).
	MaxPodGracePeriod int64
	// EvictStaticPods lets pods from manifest files be evicted too.
	EvictStaticPods bool
}

// State is what the manager remembers between passes.
type State struct {
	// FirstMet is when each threshold (by String) was first seen met,
	// for soft thresholds' grace periods.
	FirstMet map[string]time.Time
	// Met are the thresholds met at the last pass: they stay met until
	// their minimum reclaim is available too.
	Met []Threshold
	// LastObserved is when each pressure condition was last seen.
	LastObserved map[v1.NodeConditionType]time.Time
}

// Assessment is what one look at the signals decides.
type Assessment struct {
	State    State
	Pressure node.Pressure
	// Acting is the threshold to relieve now (grace period over, the
	// kubelet's order: memory first); nil when none.
	Acting *Threshold
	// Met are the thresholds whose grace period is over.
	Met []Threshold
}

// Assess compares the observations with the thresholds, as the kubelet's
// eviction manager at each pass: which thresholds are met (those met
// before stay met until their minimum reclaim is available), which
// pressure conditions hold (until the transition period has passed since
// they were last seen), and which threshold to act on.
func Assess(cfg Config, obs Observations, st State, now time.Time) Assessment {
	met := thresholdsMet(cfg.Thresholds, obs, false)
	for _, t := range thresholdsMet(st.Met, obs, true) {
		if !hasThreshold(met, t) {
			met = append(met, t)
		}
	}
	next := State{FirstMet: map[string]time.Time{}, LastObserved: map[v1.NodeConditionType]time.Time{}}
	for _, t := range met {
		first, ok := st.FirstMet[t.String()]
		if !ok {
			first = now
		}
		next.FirstMet[t.String()] = first
	}
	for c, at := range st.LastObserved {
		next.LastObserved[c] = at
	}
	for _, t := range met {
		next.LastObserved[conditionOf(t.Signal)] = now
	}
	var a Assessment
	for c, at := range next.LastObserved {
		if now.Sub(at) >= cfg.PressureTransitionPeriod && !containsCondition(met, c) {
			delete(next.LastObserved, c)
			continue
		}
		switch c {
		case v1.NodeMemoryPressure:
			a.Pressure.Memory = true
		case v1.NodeDiskPressure:
			a.Pressure.Disk = true
		case v1.NodePIDPressure:
			a.Pressure.PID = true
		}
	}
	for _, t := range met {
		if now.Sub(next.FirstMet[t.String()]) >= t.GracePeriod {
			a.Met = append(a.Met, t)
		}
	}
	next.Met = a.Met
	a.State = next
	if len(a.Met) > 0 {
		sorted := append([]Threshold(nil), a.Met...)
		sort.SliceStable(sorted, func(i, j int) bool { return signalOrder(sorted[i].Signal) < signalOrder(sorted[j].Signal) })
		a.Acting = &sorted[0]
	}
	return a
}

// thresholdsMet are those of ts whose signal's available amount is below
// the threshold (plus its minimum reclaim when enforceMinReclaim).
func thresholdsMet(ts []Threshold, obs Observations, enforceMinReclaim bool) []Threshold {
	var out []Threshold
	for _, t := range ts {
		o, ok := obs[t.Signal]
		if !ok {
			continue
		}
		want := t.Value.Of(o.Capacity)
		if enforceMinReclaim && t.MinReclaim != nil {
			want += t.MinReclaim.Of(o.Capacity)
		}
		if o.Available < want {
			out = append(out, t)
		}
	}
	return out
}

func hasThreshold(ts []Threshold, t Threshold) bool {
	for _, x := range ts {
		if x.String() == t.String() {
			return true
		}
	}
	return false
}

func containsCondition(ts []Threshold, c v1.NodeConditionType) bool {
	for _, t := range ts {
		if conditionOf(t.Signal) == c {
			return true
		}
	}
	return false
}

// signalOrder is the kubelet's order of signals to act on: memory first.
func signalOrder(s Signal) int {
	if s == SignalMemoryAvailable {
		return 0
	}
	return 1
}

// Eviction is a pod to evict, and how.
type Eviction struct {
	Pod    *v1.Pod
	Signal Signal // "" for a NoExecute taint
	// Reason and Message are the pod's status reason and message; the
	// DisruptionTarget condition has ConditionReason and Message.
	Reason, ConditionReason, Message string
	// The event on the pod: type, reason, message and annotations (the
	// kubelet's Evicted event carries the offending containers).
	EventType, EventReason, EventMessage string
	Annotations                          map[string]string
	// GracePeriod replaces the pod's terminationGracePeriodSeconds.
	GracePeriod int64
}

// The kubelet's words.
const (
	// Reason is an evicted pod's status reason, and its event's.
	Reason = "Evicted"
	// The kubelet's eviction event annotations.
	OffendingContainersKey      = "offending_containers"
	OffendingContainersUsageKey = "offending_containers_usage"
	StarvedResourceKey          = "starved_resource"

	nodeLowMessageFmt       = "The node was low on resource: %v. "
	thresholdMetMessageFmt  = "Threshold quantity: %v, available: %v. "
	containerMessageFmt     = "Container %s was using %s, request is %s, has larger consumption of %v. "
	nodeConditionMessageFmt = "The node had condition: %v. "
	// immediateGracePeriod is a hard eviction's grace period.
	immediateGracePeriod = 1
	// systemCriticalPriority: a pod at or above it is never evicted.
	systemCriticalPriority = 2000000000
)

// Choose picks the pod to evict for threshold t (one per pass, as the
// kubelet): the first of the ranked candidates that may be evicted.
// Pods from manifest files may not unless cfg.EvictStaticPods, nor pods
// of system-critical priority. nil: none may.
func Choose(cfg Config, t Threshold, met []Threshold, obs Observations, cands []Candidate, dedicatedImageFs bool) *Eviction {
	ranked := append([]Candidate(nil), cands...)
	rank(ranked, t.Signal, dedicatedImageFs)
	for _, c := range ranked {
		if (c.Static && !cfg.EvictStaticPods) || corev1helpers.PodPriority(c.Pod) >= systemCriticalPriority {
			continue
		}
		grace := int64(immediateGracePeriod)
		if !t.Hard {
			grace = cfg.MaxPodGracePeriod
			if g := c.Pod.Spec.TerminationGracePeriodSeconds; g != nil {
				grace = min(grace, *g)
			}
		}
		msg, ann := message(resourceOf(t.Signal), c, met, obs)
		return &Eviction{Pod: c.Pod, Signal: t.Signal, Reason: Reason, ConditionReason: v1.PodReasonTerminationByKubelet, Message: msg,
			EventType: v1.EventTypeWarning, EventReason: Reason, EventMessage: msg, Annotations: ann, GracePeriod: grace}
	}
	return nil
}

// message is the kubelet's eviction message and event annotations.
func message(r v1.ResourceName, c Candidate, met []Threshold, obs Observations) (string, map[string]string) {
	msg := fmt.Sprintf(nodeLowMessageFmt, r)
	for _, t := range met {
		if resourceOf(t.Signal) != r {
			continue
		}
		if o, ok := obs[t.Signal]; ok {
			msg += fmt.Sprintf(thresholdMetMessageFmt, quantity(t.Value.Of(o.Capacity)), quantity(o.Available))
			break
		}
	}
	var names, usages []string
	if c.Usage.Found {
		containers := append(append([]v1.Container(nil), c.Pod.Spec.Containers...), c.Pod.Spec.InitContainers...)
		for _, ctr := range containers {
			cu, ok := c.Usage.Containers[ctr.Name]
			if !ok {
				continue
			}
			var used int64
			switch r {
			case v1.ResourceMemory:
				used = cu.Memory
			case v1.ResourceEphemeralStorage:
				used = cu.Rootfs + cu.Logs
			default:
				continue
			}
			req := ctr.Resources.Requests[r]
			if used > req.Value() {
				q := quantity(used)
				msg += fmt.Sprintf(containerMessageFmt, ctr.Name, q.String(), req.String(), r)
				names = append(names, ctr.Name)
				usages = append(usages, q.String())
			}
		}
	}
	return msg, map[string]string{
		OffendingContainersKey:      strings.Join(names, ","),
		OffendingContainersUsageKey: strings.Join(usages, ","),
		StarvedResourceKey:          string(r),
	}
}

// AdmitMessage is why a pod may not start under pressure, as the
// kubelet's eviction admission handler: with only MemoryPressure, a
// BestEffort pod that does not tolerate the memory-pressure taint is
// refused; with any other pressure every pod is. A refused pod is Failed
// with reason Evicted and this message. Pods from manifest files are
// critical and always admitted. "" admits.
func AdmitMessage(p node.Pressure, pod *v1.Pod, static bool) string {
	if !(p.Memory || p.Disk || p.PID) || static || corev1helpers.PodPriority(pod) >= systemCriticalPriority {
		return ""
	}
	if p.Memory && !p.Disk && !p.PID {
		q := pod.Status.QOSClass
		if q == "" {
			q = qosOf(pod)
		}
		if q != v1.PodQOSBestEffort {
			return ""
		}
		taint := v1.Taint{Key: v1.TaintNodeMemoryPressure, Effect: v1.TaintEffectNoSchedule}
		if corev1helpers.TolerationsTolerateTaint(pod.Spec.Tolerations, &taint) {
			return ""
		}
	}
	return fmt.Sprintf(nodeConditionMessageFmt, pressureConditions(p))
}

// qosOf is BestEffort for a pod none of whose containers requests or
// limits cpu or memory, else Burstable (enough for admission).
func qosOf(pod *v1.Pod) v1.PodQOSClass {
	for _, list := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			for _, r := range []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory} {
				if _, ok := c.Resources.Requests[r]; ok {
					return v1.PodQOSBurstable
				}
				if _, ok := c.Resources.Limits[r]; ok {
					return v1.PodQOSBurstable
				}
			}
		}
	}
	return v1.PodQOSBestEffort
}
