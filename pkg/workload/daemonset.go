package workload

import (
	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	"github.com/minilet/minilet/pkg/jobpolicy"
	"github.com/minilet/minilet/pkg/node"
)

// syncDaemonSet is the DaemonSet controller on one node: one pod
// <name>-<5 chars> when the node fits the template (nodeSelector, required
// node affinity; the controller's tolerations let it run on a cordoned
// node), none otherwise; a failed pod is replaced after a back-off; a
// changed template replaces the pod (RollingUpdate: the old one stops
// first, maxSurge 0 on one node; OnDelete: only when the pod fails).
// nodeObj nil: the node is not known, every template fits.
func syncDaemonSet(ds *appsv1.DaemonSet, rec *Record, obs Observed, nodeObj *v1.Node, nodeName string, e *env) result {
	var res result
	if rec.Set == nil {
		rec.Set = &SetRecord{}
	}
	s := rec.Set
	upd, _ := s.updateRevision(ds.Name, &ds.Spec.Template)
	if obs.unknown(s.Pods) {
		return res
	}
	// As the DaemonSet controller's nodeShouldRunDaemonPod: the node must
	// match the template's affinity and its taints be tolerated (with the
	// controller's own tolerations); an untolerated NoSchedule taint only
	// keeps a new pod from being made, NoExecute removes a running one.
	fits, canStay := true, true
	if nodeObj != nil {
		probe := v1.Pod{Spec: *ds.Spec.Template.Spec.DeepCopy()}
		daemonPodSpec(&probe.Spec, "")
		fits, _, _ = node.Admit(&probe, nodeObj)
		canStay = fits
		for i := range nodeObj.Spec.Taints {
			t := &nodeObj.Spec.Taints[i]
			if t.Effect == v1.TaintEffectPreferNoSchedule || corev1helpers.TolerationsTolerateTaint(probe.Spec.Tolerations, t) {
				continue
			}
			fits = false
			if t.Effect == v1.TaintEffectNoExecute {
				canStay = false
			}
		}
	}
	var keep []v1.Pod
	for _, p := range s.Pods {
		v := obs.view(p)
		switch {
		case !canStay:
			res.event(v1.EventTypeNormal, "DaemonSet", ds.Name, "SuccessfulDelete", "Deleted pod: %s", p.Name)
		case v.phase == v1.PodFailed:
			s.Failures++
			s.LastFailure = e.now
			res.event(v1.EventTypeWarning, "DaemonSet", ds.Name, "FailedDaemonPod", "Found failed daemon pod %s/%s on node %s, will try to kill it", p.Namespace, p.Name, nodeName)
		case p.Labels[revisionHashLabel] != upd.Name && ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType:
			res.event(v1.EventTypeNormal, "DaemonSet", ds.Name, "SuccessfulDelete", "Deleted pod: %s", p.Name)
		default:
			if v.ready {
				s.Failures = 0
			}
			keep = append(keep, p)
		}
	}
	if fits && len(keep) == 0 && !anySetPodStopping(obs, rec) {
		if d := jobpolicy.Backoff(s.Failures, s.LastFailure, e.now); s.Failures > 0 && d > 0 {
			res.wakeIn(d)
		} else {
			labels := map[string]string{revisionHashLabel: upd.Name, "pod-template-generation": "1"}
			p := podFromTemplate(&upd.Template, ds.Namespace, ds.Name+"-", e, controllerRef("apps/v1", "DaemonSet", ds.Name, rec.UID), labels, nil)
			daemonPodSpec(&p.Spec, nodeName)
			keep = append(keep, p)
			res.event(v1.EventTypeNormal, "DaemonSet", ds.Name, "SuccessfulCreate", "Created pod: %s", p.Name)
		}
	}
	s.Pods = keep
	if len(keep) == 1 && keep[0].Labels[revisionHashLabel] == upd.Name {
		s.CurrentRevision = upd.Name
	}
	s.trimRevisions(*ds.Spec.RevisionHistoryLimit, upd.Name)
	return res
}

// daemonPodSpec adds what the DaemonSet controller adds to its pods: node
// affinity to this node by name, and the tolerations that let a daemon
// run on a node that is cordoned or under pressure.
func daemonPodSpec(spec *v1.PodSpec, nodeName string) {
	if nodeName != "" {
		if spec.Affinity == nil {
			spec.Affinity = &v1.Affinity{}
		}
		spec.Affinity.NodeAffinity = &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
			NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchFields: []v1.NodeSelectorRequirement{{Key: "metadata.name", Operator: v1.NodeSelectorOpIn, Values: []string{nodeName}}}}},
		}}
	}
	add := func(key string, effect v1.TaintEffect) {
		for _, t := range spec.Tolerations {
			if t.Key == key && t.Effect == effect {
				return
			}
		}
		spec.Tolerations = append(spec.Tolerations, v1.Toleration{Key: key, Operator: v1.TolerationOpExists, Effect: effect})
	}
	add(v1.TaintNodeNotReady, v1.TaintEffectNoExecute)
	add(v1.TaintNodeUnreachable, v1.TaintEffectNoExecute)
	add(v1.TaintNodeDiskPressure, v1.TaintEffectNoSchedule)
	add(v1.TaintNodeMemoryPressure, v1.TaintEffectNoSchedule)
	add(v1.TaintNodePIDPressure, v1.TaintEffectNoSchedule)
	add(v1.TaintNodeUnschedulable, v1.TaintEffectNoSchedule)
	if spec.HostNetwork {
		add(v1.TaintNodeNetworkUnavailable, v1.TaintEffectNoSchedule)
	}
}
