package workload

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/manifest"
)

// Labels the StatefulSet controller puts on its pods.
const (
	podNameLabel  = "statefulset.kubernetes.io/pod-name"
	podIndexLabel = "apps.kubernetes.io/pod-index"
)

// syncStatefulSet is one pass of the StatefulSet controller
// (stateful_set_control.go): pods <name>-<ordinal> made in order (each
// after the one before is running and ready, with OrderedReady) or all at
// once (Parallel); a failed pod made again under its name; extra ordinals
// deleted from the highest; a changed template rolled out from the
// highest ordinal down to the partition, one pod at a time; each ordinal's
// claims made from volumeClaimTemplates and kept across pod replacement
// and scale-down (persistentVolumeClaimRetentionPolicy).
func syncStatefulSet(ss *appsv1.StatefulSet, rec *Record, obs Observed, e *env) result {
	var res result
	if rec.Set == nil {
		rec.Set = &SetRecord{}
	}
	s := rec.Set
	upd, _ := s.updateRevision(ss.Name, &ss.Spec.Template)
	if s.CurrentRevision == "" || s.revision(s.CurrentRevision) == nil {
		s.CurrentRevision = upd.Name
	}
	if obs.unknown(s.Pods) {
		return res // act once every pod's status is known
	}
	start := 0
	if ss.Spec.Ordinals != nil {
		start = int(ss.Spec.Ordinals.Start)
	}
	end := start + int(*ss.Spec.Replicas)
	ordered := ss.Spec.PodManagementPolicy == appsv1.OrderedReadyPodManagement
	minReady := ss.Spec.MinReadySeconds

	byOrd := map[int]int{} // ordinal → index in s.Pods
	for i, p := range s.Pods {
		if o, ok := ordinalOf(ss.Name, p.Name); ok {
			byOrd[o] = i
		}
	}
	healthy := func(o int) bool {
		i, ok := byOrd[o]
		if !ok {
			return false
		}
		v := obs.view(s.Pods[i])
		if d := v.availableIn(minReady, e.now); d > 0 {
			res.wakeIn(d)
		}
		return v.phase == v1.PodRunning && v.available(minReady, e.now)
	}
	stopping := anySetPodStopping(obs, rec)
	var replace []int // indexes in s.Pods replaced by a new pod
	var newPods []v1.Pod

	// Make missing and failed pods, in order.
	for o := start; o < end; o++ {
		i, ok := byOrd[o]
		switch {
		case !ok:
			revName := upd.Name
			if ss.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && o < start+int(*ss.Spec.UpdateStrategy.RollingUpdate.Partition) {
				revName = s.CurrentRevision
			}
			newPods = append(newPods, statefulPod(ss, rec, s.revision(revName), o, e, &res))
			if ordered {
				goto scaled
			}
			continue
		case obs.view(s.Pods[i]).phase == v1.PodFailed:
			res.event(v1.EventTypeWarning, "StatefulSet", ss.Name, "RecreatingFailedPod", "StatefulSet %s/%s is recreating failed Pod %s", ss.Namespace, ss.Name, s.Pods[i].Name)
			replace = append(replace, i)
			newPods = append(newPods, statefulPod(ss, rec, s.revision(s.Pods[i].Labels[revisionHashLabel]), o, e, &res))
			if ordered {
				goto scaled
			}
			continue
		}
		if ordered && !healthy(o) {
			goto scaled
		}
	}
	// Every wanted pod exists (and, with OrderedReady, is ready): delete
	// the extra ordinals, the highest first.
	{
		var extra []int
		for o, i := range byOrd {
			if o < start || o >= end {
				extra = append(extra, o)
				_ = i
			}
		}
		sort.Sort(sort.Reverse(sort.IntSlice(extra)))
		if ordered && len(extra) > 0 {
			if stopping {
				goto scaled
			}
			extra = extra[:1]
		}
		for _, o := range extra {
			i := byOrd[o]
			res.event(v1.EventTypeNormal, "StatefulSet", ss.Name, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful", s.Pods[i].Name, ss.Name)
			replace = append(replace, i)
			if ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled == appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
				for _, t := range ss.Spec.VolumeClaimTemplates {
					s.dropClaim(claimName(t.Name, ss.Name, o))
				}
			}
		}
		if len(extra) > 0 {
			goto scaled
		}
		// The rolling update: the highest ordinal at or above the
		// partition whose revision is not the update's, once every pod is
		// healthy and none is stopping.
		if ss.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType || stopping {
			goto scaled
		}
		for o := start; o < end; o++ {
			if !healthy(o) {
				goto scaled
			}
		}
		for o := end - 1; o >= start+int(*ss.Spec.UpdateStrategy.RollingUpdate.Partition); o-- {
			i := byOrd[o]
			if s.Pods[i].Labels[revisionHashLabel] == upd.Name {
				continue
			}
			res.event(v1.EventTypeNormal, "StatefulSet", ss.Name, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful", s.Pods[i].Name, ss.Name)
			replace = append(replace, i)
			newPods = append(newPods, statefulPod(ss, rec, upd, o, e, &res))
			break
		}
	}
scaled:
	if len(replace) > 0 || len(newPods) > 0 {
		drop := map[int]bool{}
		for _, i := range replace {
			drop[i] = true
		}
		var keep []v1.Pod
		for i, p := range s.Pods {
			if !drop[i] {
				keep = append(keep, p)
			}
		}
		s.Pods = append(keep, newPods...)
		sort.Slice(s.Pods, func(i, j int) bool {
			a, _ := ordinalOf(ss.Name, s.Pods[i].Name)
			b, _ := ordinalOf(ss.Name, s.Pods[j].Name)
			return a < b
		})
	}
	// The update is done when every pod has the update revision.
	done := len(s.Pods) == end-start
	for _, p := range s.Pods {
		done = done && p.Labels[revisionHashLabel] == upd.Name
	}
	if done {
		s.CurrentRevision = upd.Name
	}
	s.trimRevisions(*ss.Spec.RevisionHistoryLimit, upd.Name, s.CurrentRevision)
	return res
}

// statefulPod makes the pod of ordinal o from revision rev, with its
// claims (made in the record on first use).
func statefulPod(ss *appsv1.StatefulSet, rec *Record, rev *RevisionRecord, o int, e *env, res *result) v1.Pod {
	name := fmt.Sprintf("%s-%d", ss.Name, o)
	ne := *e
	ne.name = func(string) string { return name }
	labels := map[string]string{revisionHashLabel: rev.Name, podNameLabel: name, podIndexLabel: strconv.Itoa(o)}
	p := podFromTemplate(&rev.Template, ss.Namespace, "", &ne, controllerRef("apps/v1", "StatefulSet", ss.Name, rec.UID), labels, nil)
	p.GenerateName = ""
	p.Spec.Hostname = name
	p.Spec.Subdomain = ss.Spec.ServiceName
	for _, t := range ss.Spec.VolumeClaimTemplates {
		c := claimName(t.Name, ss.Name, o)
		p.Spec.Volumes = manifest.SetClaimVolume(p.Spec.Volumes, t.Name, c)
		if rec.Set.addClaim(c) {
			res.event(v1.EventTypeNormal, "StatefulSet", ss.Name, "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success", c, name, ss.Name)
		}
	}
	res.event(v1.EventTypeNormal, "StatefulSet", ss.Name, "SuccessfulCreate", "create Pod %s in StatefulSet %s successful", name, ss.Name)
	return p
}

func claimName(template, set string, ordinal int) string {
	return fmt.Sprintf("%s-%s-%d", template, set, ordinal)
}

func (s *SetRecord) addClaim(name string) bool {
	for _, c := range s.Claims {
		if c == name {
			return false
		}
	}
	s.Claims = append(s.Claims, name)
	sort.Strings(s.Claims)
	return true
}

// dropClaim forgets a claim and queues its data for removal.
func (s *SetRecord) dropClaim(name string) {
	for i, c := range s.Claims {
		if c == name {
			s.Claims = append(s.Claims[:i], s.Claims[i+1:]...)
			s.ClaimsToDelete = append(s.ClaimsToDelete, name)
			return
		}
	}
}

// ordinalOf reads the ordinal of a StatefulSet pod's name.
func ordinalOf(set, pod string) (int, bool) {
	rest, ok := strings.CutPrefix(pod, set+"-")
	if !ok {
		return 0, false
	}
	o, err := strconv.Atoi(rest)
	return o, err == nil && o >= 0
}

// anySetPodStopping: a pod the set deleted is still stopping.
func anySetPodStopping(obs Observed, rec *Record) bool {
	for _, p := range obs {
		if p.DeletionTimestamp != nil {
			if c := metav1.GetControllerOf(&p); c != nil && c.UID == rec.UID {
				return true
			}
		}
	}
	return false
}

// statefulClaims are the PersistentVolumeClaims of a StatefulSet's record,
// made from its volumeClaimTemplates, labelled with its selector.
func statefulClaims(ss *appsv1.StatefulSet, rec *Record) []v1.PersistentVolumeClaim {
	if rec.Set == nil {
		return nil
	}
	var out []v1.PersistentVolumeClaim
	for _, c := range rec.Set.Claims {
		for _, t := range ss.Spec.VolumeClaimTemplates {
			if !strings.HasPrefix(c, t.Name+"-"+ss.Name+"-") {
				continue
			}
			if _, ok := ordinalOf(ss.Name, strings.TrimPrefix(c, t.Name+"-")); !ok {
				continue
			}
			claim := v1.PersistentVolumeClaim{
				ObjectMeta: metav1.ObjectMeta{Name: c, Namespace: ss.Namespace, Labels: map[string]string{}, Annotations: t.Annotations},
				Spec:       *t.Spec.DeepCopy(),
			}
			for k, v := range t.Labels {
				claim.Labels[k] = v
			}
			if ss.Spec.Selector != nil {
				for k, v := range ss.Spec.Selector.MatchLabels {
					claim.Labels[k] = v
				}
			}
			if ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted == appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
				claim.OwnerReferences = []metav1.OwnerReference{controllerRef("apps/v1", "StatefulSet", ss.Name, rec.UID)}
			}
			out = append(out, claim)
			break
		}
	}
	return out
}
