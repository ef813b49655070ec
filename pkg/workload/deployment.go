package workload

import (
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/minilet/minilet/pkg/workload/names"
	"github.com/minilet/minilet/pkg/workload/rollout"
)

// Deployment condition reasons, the deployment controller's.
const (
	reasonNewRSCreated      = "NewReplicaSetCreated"
	reasonFoundNewRS        = "FoundNewReplicaSet"
	reasonRSUpdated         = "ReplicaSetUpdated"
	reasonNewRSAvailable    = "NewReplicaSetAvailable"
	reasonTimedOut          = "ProgressDeadlineExceeded"
	reasonMinimumAvailable  = "MinimumReplicasAvailable"
	reasonMinimumUnavailble = "MinimumReplicasUnavailable"
)

// revisionAnnotation is the deployment controller's revision annotation.
const revisionAnnotation = "deployment.kubernetes.io/revision"

// syncDeployment is one pass of the deployment controller over rec: it
// finds or makes the ReplicaSet of the current template, moves the rollout
// one step (RollingUpdate within maxSurge and maxUnavailable, or
// Recreate), syncs every ReplicaSet's pods, drops old empty ReplicaSets
// beyond revisionHistoryLimit and sets the conditions.
func syncDeployment(d *appsv1.Deployment, rec *Record, obs Observed, e *env) result {
	var res result
	newRS, created := findOrMakeNewRS(d, rec, e)
	if created {
		rec.LastProgress = e.now
	}
	replicas := *d.Spec.Replicas
	minReady := d.Spec.MinReadySeconds

	counts := map[string]rsCounts{}
	for i := range rec.ReplicaSets {
		rs := &rec.ReplicaSets[i]
		c, soon := countReplicaSet(rs, obs, minReady, e.now)
		counts[rs.Name] = c
		if soon > 0 {
			res.wakeIn(soon)
		}
	}
	scale := func(rs *ReplicaSetRecord, to int32) {
		if rs.Replicas == to {
			return
		}
		verb := "up"
		if to < rs.Replicas {
			verb = "down"
		}
		res.event(v1.EventTypeNormal, "Deployment", d.Name, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", verb, rs.Name, rs.Replicas, to)
		rs.Replicas = to
		rec.LastProgress = e.now
	}

	switch d.Spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		oldRunning := false
		for i := range rec.ReplicaSets {
			rs := &rec.ReplicaSets[i]
			if rs.Name == newRS.Name {
				continue
			}
			scale(rs, 0)
			if counts[rs.Name].replicas > 0 {
				oldRunning = true
			}
		}
		// The new pods start once no old pod runs, or stops (Recreate's
		// promise: never two versions at once).
		if !oldRunning && !anyStopping(obs, rec) {
			scale(newRS, replicas)
		}
	default:
		ru := d.Spec.Strategy.RollingUpdate
		if hasHostPort(&d.Spec.Template) {
			// Two pods cannot hold one host port: the new pod waits until
			// the old one is gone, one at a time.
			if surge, _ := fenceposts(ru, replicas); surge > 0 && created {
				res.event(v1.EventTypeNormal, "Deployment", d.Name, "HostPortSurge", "the pods hold host ports, which two pods cannot share on one node: this rollout replaces them one at a time (maxSurge 0, maxUnavailable 1)")
			}
			zero, one := intstr.FromInt32(0), intstr.FromInt32(1)
			ru = &appsv1.RollingUpdateDeployment{MaxSurge: &zero, MaxUnavailable: &one}
			if anyStopping(obs, rec) {
				break
			}
		}
		var olds []rollout.ReplicaSet
		for _, rs := range rec.ReplicaSets {
			if rs.Name != newRS.Name {
				olds = append(olds, rollout.ReplicaSet{Name: rs.Name, Created: rs.Created, Replicas: rs.Replicas, Available: counts[rs.Name].available})
			}
		}
		nc := counts[newRS.Name]
		grow, oldTo, err := rollout.Step(replicas, ru.MaxSurge, ru.MaxUnavailable, rollout.ReplicaSet{Name: newRS.Name, Created: newRS.Created, Replicas: newRS.Replicas, Available: nc.available}, olds)
		if err != nil {
			res.event(v1.EventTypeWarning, "Deployment", d.Name, "ReplicaSetUpdateError", "%v", err)
			break
		}
		scale(newRS, grow)
		for i := range rec.ReplicaSets {
			rs := &rec.ReplicaSets[i]
			if to, ok := oldTo[rs.Name]; ok {
				scale(rs, to)
			}
		}
	}

	before := map[string]int{}
	for i := range rec.ReplicaSets {
		rs := &rec.ReplicaSets[i]
		before[rs.Name] = len(rs.Pods)
		syncReplicaSet(rs, d.Namespace, obs, e, &res)
	}
	cleanupOldReplicaSets(d, rec, &res)
	// Counts after the pods' sync, for the conditions.
	for i := range rec.ReplicaSets {
		rs := &rec.ReplicaSets[i]
		c, _ := countReplicaSet(rs, obs, minReady, e.now)
		if o := counts[rs.Name]; o != c || before[rs.Name] != len(rs.Pods) {
			if rs.Name == newRS.Name {
				rec.LastProgress = e.now
			}
		}
		counts[rs.Name] = c
	}
	setDeploymentConditions(d, rec, newRS.Name, counts, e, &res)
	return res
}

// findOrMakeNewRS returns the ReplicaSet whose template is the
// Deployment's, making it (and a new revision) when none is.
func findOrMakeNewRS(d *appsv1.Deployment, rec *Record, e *env) (*ReplicaSetRecord, bool) {
	maxRev := int64(0)
	for _, rs := range rec.ReplicaSets {
		maxRev = max(maxRev, rs.Revision)
	}
	for i := range rec.ReplicaSets {
		rs := &rec.ReplicaSets[i]
		if equality.Semantic.DeepEqual(rs.Template, d.Spec.Template) {
			if rs.Revision < maxRev {
				rs.Revision = maxRev + 1 // a rollback is a new revision
			}
			return rs, false
		}
	}
	var hash, name string
	for {
		hash = names.TemplateHash(&d.Spec.Template, rec.CollisionCount)
		name = d.Name + "-" + hash
		taken := false
		for _, rs := range rec.ReplicaSets {
			taken = taken || rs.Name == name
		}
		if !taken {
			break
		}
		// Another template has this hash: as the controller, count the
		// collision and hash again.
		n := int32(1)
		if rec.CollisionCount != nil {
			n = *rec.CollisionCount + 1
		}
		rec.CollisionCount = &n
	}
	rec.ReplicaSets = append(rec.ReplicaSets, ReplicaSetRecord{
		Name: name, UID: e.uid(), Created: e.now, Revision: maxRev + 1, Hash: hash,
		Template: *d.Spec.Template.DeepCopy(),
	})
	return &rec.ReplicaSets[len(rec.ReplicaSets)-1], true
}

// cleanupOldReplicaSets deletes the oldest empty old ReplicaSets beyond
// revisionHistoryLimit.
func cleanupOldReplicaSets(d *appsv1.Deployment, rec *Record, res *result) {
	newest := int64(0)
	for _, rs := range rec.ReplicaSets {
		newest = max(newest, rs.Revision)
	}
	var old []int
	for i, rs := range rec.ReplicaSets {
		if rs.Revision != newest {
			old = append(old, i)
		}
	}
	extra := len(old) - int(*d.Spec.RevisionHistoryLimit)
	if extra <= 0 {
		return
	}
	// Oldest revision first.
	sortByRevision(rec.ReplicaSets)
	keep := rec.ReplicaSets[:0]
	for _, rs := range rec.ReplicaSets {
		if extra > 0 && rs.Revision != newest && rs.Replicas == 0 && len(rs.Pods) == 0 {
			extra--
			continue
		}
		keep = append(keep, rs)
	}
	rec.ReplicaSets = keep
}

func sortByRevision(rss []ReplicaSetRecord) {
	for i := 1; i < len(rss); i++ {
		for j := i; j > 0 && rss[j].Revision < rss[j-1].Revision; j-- {
			rss[j], rss[j-1] = rss[j-1], rss[j]
		}
	}
}

// setDeploymentConditions sets Available and Progressing as the
// controller does, and says when the progress deadline falls.
func setDeploymentConditions(d *appsv1.Deployment, rec *Record, newName string, counts map[string]rsCounts, e *env, res *result) {
	replicas := *d.Spec.Replicas
	var total, available int32
	for _, c := range counts {
		total += c.replicas
		available += c.available
	}
	nc := counts[newName]
	_, unavailable := fenceposts(d.Spec.Strategy.RollingUpdate, replicas)
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		unavailable = 0
	}
	if available >= replicas-unavailable {
		setDeployCondition(rec, appsv1.DeploymentAvailable, v1.ConditionTrue, reasonMinimumAvailable, "Deployment has minimum availability.", e.now)
	} else {
		setDeployCondition(rec, appsv1.DeploymentAvailable, v1.ConditionFalse, reasonMinimumUnavailble, "Deployment does not have minimum availability.", e.now)
	}
	complete := nc.replicas == replicas && nc.available == replicas && total == replicas
	prev := deployCondition(rec, appsv1.DeploymentProgressing)
	switch {
	case complete:
		if prev == nil || prev.Reason != reasonNewRSAvailable {
			setDeployCondition(rec, appsv1.DeploymentProgressing, v1.ConditionTrue, reasonNewRSAvailable, fmt.Sprintf("ReplicaSet %q has successfully progressed.", newName), e.now)
		}
	case prev != nil && prev.Reason == reasonTimedOut && !rec.LastProgress.After(prev.LastUpdateTime.Time):
		// Timed out, and nothing moved since.
	default:
		deadline := rec.LastProgress.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second)
		if !e.now.Before(deadline) {
			setDeployCondition(rec, appsv1.DeploymentProgressing, v1.ConditionFalse, reasonTimedOut, fmt.Sprintf("ReplicaSet %q has timed out progressing.", newName), e.now)
			res.event(v1.EventTypeWarning, "Deployment", d.Name, "ProgressDeadlineExceeded", "Deployment %q has timed out progressing.", d.Name)
			return
		}
		reason := reasonRSUpdated
		msg := fmt.Sprintf("ReplicaSet %q is progressing.", newName)
		if prev == nil {
			reason, msg = reasonNewRSCreated, fmt.Sprintf("Created new replica set %q", newName)
		}
		c := deployCondition(rec, appsv1.DeploymentProgressing)
		if c == nil || c.Reason != reason || c.Status != v1.ConditionTrue || !c.LastUpdateTime.Time.Equal(rec.LastProgress) {
			setDeployCondition(rec, appsv1.DeploymentProgressing, v1.ConditionTrue, reason, msg, e.now)
			deployCondition(rec, appsv1.DeploymentProgressing).LastUpdateTime = metav1.NewTime(rec.LastProgress)
		}
		res.wakeIn(deadline.Sub(e.now))
	}
}

func deployCondition(rec *Record, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range rec.Conditions {
		if rec.Conditions[i].Type == t {
			return &rec.Conditions[i]
		}
	}
	return nil
}

// setDeployCondition sets a condition; its transition time moves only
// when its status does, its update time at every change.
func setDeployCondition(rec *Record, t appsv1.DeploymentConditionType, status v1.ConditionStatus, reason, msg string, now time.Time) {
	c := deployCondition(rec, t)
	if c == nil {
		rec.Conditions = append(rec.Conditions, appsv1.DeploymentCondition{Type: t})
		c = &rec.Conditions[len(rec.Conditions)-1]
		c.LastTransitionTime = metav1.NewTime(now)
	}
	if c.Status == status && c.Reason == reason && c.Message == msg {
		return
	}
	if c.Status != status {
		c.LastTransitionTime = metav1.NewTime(now)
	}
	c.Status, c.Reason, c.Message, c.LastUpdateTime = status, reason, msg, metav1.NewTime(now)
}

// anyStopping reports whether a pod of the Deployment is still stopping
// (the pod manager shows it with a deletion time).
func anyStopping(obs Observed, rec *Record) bool {
	names := map[string]bool{}
	for _, rs := range rec.ReplicaSets {
		names[rs.Name] = true
	}
	for _, p := range obs {
		if p.DeletionTimestamp == nil {
			continue
		}
		for _, o := range p.OwnerReferences {
			if o.Kind == "ReplicaSet" && names[o.Name] {
				return true
			}
		}
	}
	return false
}

func hasHostPort(t *v1.PodTemplateSpec) bool {
	for _, cs := range [][]v1.Container{t.Spec.InitContainers, t.Spec.Containers} {
		for _, c := range cs {
			for _, p := range c.Ports {
				if p.HostPort != 0 {
					return true
				}
			}
		}
	}
	return false
}

// fenceposts resolves maxSurge and maxUnavailable (zero without a rolling
// update).
func fenceposts(ru *appsv1.RollingUpdateDeployment, replicas int32) (surge, unavailable int32) {
	if ru == nil {
		return 0, 0
	}
	surge, unavailable, _ = rollout.Fenceposts(ru.MaxSurge, ru.MaxUnavailable, replicas)
	return surge, unavailable
}

// revisionOf formats a revision as the annotation holds it.
func revisionOf(rs *ReplicaSetRecord) string { return strconv.FormatInt(rs.Revision, 10) }
