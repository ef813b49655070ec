package workload

import (
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The workloads as the API shows them: the object from its file with what
// an API server and its controller add (UID, creation time, generation,
// generated selectors, status).

// Deployments lists the Deployments with their status, by namespace and
// name.
func (m *Manager) Deployments() []appsv1.Deployment {
	recs, obs := m.snapshot()
	var out []appsv1.Deployment
	for _, r := range recs {
		if r.Object.Deployment == nil {
			continue
		}
		out = append(out, deploymentView(r, obs, m.clock.Now()))
	}
	return out
}

// ReplicaSets lists the ReplicaSets, from files and of Deployments.
func (m *Manager) ReplicaSets() []appsv1.ReplicaSet {
	recs, obs := m.snapshot()
	var out []appsv1.ReplicaSet
	now := m.clock.Now()
	for _, r := range recs {
		for i := range r.ReplicaSets {
			out = append(out, replicaSetView(r, &r.ReplicaSets[i], obs, now))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Jobs lists the Jobs with their status (not those deleted by
// ttlSecondsAfterFinished).
func (m *Manager) Jobs() []batchv1.Job {
	recs, obs := m.snapshot()
	var out []batchv1.Job
	add := func(r *Record) {
		if r.Object.Job != nil && (r.Job == nil || !r.Job.Gone) {
			out = append(out, jobView(r, obs))
		}
	}
	for _, r := range recs {
		add(r)
		if r.Cron != nil {
			for i := range r.Cron.Jobs {
				add(&r.Cron.Jobs[i])
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// CronJobs lists the CronJobs with their status.
func (m *Manager) CronJobs() []batchv1.CronJob {
	recs, _ := m.snapshot()
	var out []batchv1.CronJob
	for _, r := range recs {
		if r.Object.CronJob == nil {
			continue
		}
		cj := *r.Object.CronJob.DeepCopy()
		cj.ObjectMeta = objectMeta(r)
		if cr := r.Cron; cr != nil {
			if t := cr.LastScheduleTime; t != nil {
				mt := metav1.NewTime(*t)
				cj.Status.LastScheduleTime = &mt
			}
			if t := cr.LastSuccessfulTime; t != nil {
				mt := metav1.NewTime(*t)
				cj.Status.LastSuccessfulTime = &mt
			}
			for _, c := range cr.Jobs {
				if c.Job == nil || (finishedCondition(c.Job) == nil && !c.Job.Gone) {
					cj.Status.Active = append(cj.Status.Active, v1.ObjectReference{Kind: "Job", Namespace: cj.Namespace, Name: c.Object.Job.Name, UID: c.UID, APIVersion: "batch/v1"})
				}
			}
		}
		out = append(out, cj)
	}
	return out
}

// CronMissed is how many scheduled times each CronJob (namespace/name)
// passed without a Job.
func (m *Manager) CronMissed() map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int64{}
	for _, r := range m.records {
		if r.Object.CronJob != nil && r.Cron != nil {
			out[r.Object.CronJob.Namespace+"/"+r.Object.CronJob.Name] = r.Cron.Missed
		}
	}
	return out
}

// Events lists the events of a workload (kind Deployment, ReplicaSet or
// Job), oldest first, as v1.Events.
func (m *Manager) Events(kind, namespace, name string) []v1.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []v1.Event
	for key, evs := range m.events {
		r := m.records[key]
		if r == nil || r.Object.Meta().Namespace != namespace {
			continue
		}
		for _, e := range evs {
			if e.Kind != kind || e.Name != name {
				continue
			}
			t := metav1.NewTime(e.Time)
			out = append(out, v1.Event{
				ObjectMeta:     metav1.ObjectMeta{Namespace: namespace, Name: name + "." + strconv.FormatInt(e.Time.UnixNano(), 16)},
				InvolvedObject: v1.ObjectReference{Kind: e.Kind, Namespace: namespace, Name: e.Name},
				Type:           e.Type, Reason: e.Reason, Message: e.Message,
				Source:         v1.EventSource{Component: controllerName(e.Kind)},
				FirstTimestamp: t, LastTimestamp: t, Count: 1,
			})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastTimestamp.Before(&out[j].LastTimestamp) })
	return out
}

func controllerName(kind string) string {
	switch kind {
	case "Deployment":
		return "deployment-controller"
	case "ReplicaSet":
		return "replicaset-controller"
	case "StatefulSet":
		return "statefulset-controller"
	case "DaemonSet":
		return "daemonset-controller"
	case "CronJob":
		return "cronjob-controller"
	}
	return "job-controller"
}

// snapshot copies the records, sorted by key, and observes the pods.
func (m *Manager) snapshot() ([]*Record, Observed) {
	obs := NewObserved(m.pods.SyncedPods())
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.records))
	for k := range m.records {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*Record, 0, len(keys))
	for _, k := range keys {
		r := *m.records[k]
		r.Object = r.Object.DeepCopy()
		r.ReplicaSets = append([]ReplicaSetRecord(nil), r.ReplicaSets...)
		r.Conditions = append([]appsv1.DeploymentCondition(nil), r.Conditions...)
		if r.Set != nil {
			set := *r.Set
			set.Pods = append([]v1.Pod(nil), set.Pods...)
			set.Revisions = append([]RevisionRecord(nil), set.Revisions...)
			r.Set = &set
		}
		if r.Cron != nil {
			cr := *r.Cron
			cr.Jobs = nil
			for _, c := range r.Cron.Jobs {
				c.Object = c.Object.DeepCopy()
				if c.Job != nil {
					j := *c.Job
					j.Pods = append([]v1.Pod(nil), j.Pods...)
					j.Conditions = append([]batchv1.JobCondition(nil), j.Conditions...)
					c.Job = &j
				}
				cr.Jobs = append(cr.Jobs, c)
			}
			r.Cron = &cr
		}
		if r.Job != nil {
			j := *r.Job
			j.Pods = append([]v1.Pod(nil), j.Pods...)
			j.Conditions = append([]batchv1.JobCondition(nil), j.Conditions...)
			r.Job = &j
		}
		out = append(out, &r)
	}
	return out, obs
}

func objectMeta(r *Record) metav1.ObjectMeta {
	m := *r.Object.Meta().DeepCopy()
	m.UID = r.UID
	m.CreationTimestamp = metav1.NewTime(r.Created)
	m.Generation = r.Generation
	return m
}

func deploymentView(r *Record, obs Observed, t time.Time) appsv1.Deployment {
	d := *r.Object.Deployment.DeepCopy()
	d.ObjectMeta = objectMeta(r)
	var st appsv1.DeploymentStatus
	newest := int64(0)
	newName := ""
	for _, rs := range r.ReplicaSets {
		if rs.Revision > newest {
			newest, newName = rs.Revision, rs.Name
		}
	}

	for i := range r.ReplicaSets {
		rs := &r.ReplicaSets[i]
		c, _ := countReplicaSet(rs, obs, d.Spec.MinReadySeconds, t)
		st.Replicas += c.replicas
		st.ReadyReplicas += c.ready
		st.AvailableReplicas += c.available
		if rs.Name == newName {
			st.UpdatedReplicas = c.replicas
		}
	}
	st.UnavailableReplicas = max(0, *d.Spec.Replicas-st.AvailableReplicas)
	st.ObservedGeneration = r.Generation
	st.Conditions = r.Conditions
	st.CollisionCount = r.CollisionCount
	d.Status = st
	if newest > 0 {
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[revisionAnnotation] = strconv.FormatInt(newest, 10)
	}
	return d
}

func replicaSetView(r *Record, rs *ReplicaSetRecord, obs Observed, t time.Time) appsv1.ReplicaSet {

	var out appsv1.ReplicaSet
	minReady := int32(0)
	if d := r.Object.Deployment; d != nil {
		minReady = d.Spec.MinReadySeconds
		meta := metav1.ObjectMeta{
			Name: rs.Name, Namespace: d.Namespace, UID: rs.UID, CreationTimestamp: metav1.NewTime(rs.Created),
			Labels:          map[string]string{podTemplateHashLabel: rs.Hash},
			Annotations:     map[string]string{revisionAnnotation: revisionOf(rs), "deployment.kubernetes.io/desired-replicas": strconv.Itoa(int(*d.Spec.Replicas))},
			OwnerReferences: []metav1.OwnerReference{controllerRef("apps/v1", "Deployment", d.Name, r.UID)},
			Generation:      1,
		}
		for k, v := range rs.Template.Labels {
			meta.Labels[k] = v
		}
		sel := d.Spec.Selector.DeepCopy()
		if sel.MatchLabels == nil {
			sel.MatchLabels = map[string]string{}
		}
		sel.MatchLabels[podTemplateHashLabel] = rs.Hash
		tmpl := *rs.Template.DeepCopy()
		if tmpl.Labels == nil {
			tmpl.Labels = map[string]string{}
		}
		tmpl.Labels[podTemplateHashLabel] = rs.Hash
		out = appsv1.ReplicaSet{ObjectMeta: meta, Spec: appsv1.ReplicaSetSpec{Replicas: &rs.Replicas, MinReadySeconds: minReady, Selector: sel, Template: tmpl}}
	} else {
		out = *r.Object.ReplicaSet.DeepCopy()
		out.ObjectMeta = objectMeta(r)
		minReady = out.Spec.MinReadySeconds
	}
	c, _ := countReplicaSet(rs, obs, minReady, t)
	out.Status = appsv1.ReplicaSetStatus{Replicas: c.replicas, FullyLabeledReplicas: c.replicas, ReadyReplicas: c.ready, AvailableReplicas: c.available, ObservedGeneration: out.Generation}
	return out
}

func jobView(r *Record, obs Observed) batchv1.Job {
	j := *r.Object.Job.DeepCopy()
	j.ObjectMeta = objectMeta(r)
	sel := jobSelectorLabels(&j, r.UID)
	j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{jobUIDLabel: string(r.UID)}}
	if j.Spec.Template.Labels == nil {
		j.Spec.Template.Labels = map[string]string{}
	}
	for k, v := range sel {
		j.Spec.Template.Labels[k] = v
	}
	if j.Labels == nil {
		j.Labels = map[string]string{}
	}
	j.Labels[jobUIDLabel], j.Labels[jobNameLabel] = string(r.UID), j.Name
	j.Labels[legacyJobUIDLabel], j.Labels[legacyJobNameLabel] = string(r.UID), j.Name
	jr := r.Job
	if jr == nil {
		return j
	}
	st := batchv1.JobStatus{Succeeded: jr.Succeeded, Failed: jr.Failed, Conditions: jr.Conditions}
	if jr.StartTime != nil {
		t := metav1.NewTime(*jr.StartTime)
		st.StartTime = &t
	}
	if jr.CompletionTime != nil {
		t := metav1.NewTime(*jr.CompletionTime)
		st.CompletionTime = &t
	}
	var ready, terminating int32
	for _, p := range jr.Pods {
		v := obs.view(p)
		if v.finished() {
			continue
		}
		st.Active++
		if v.ready {
			ready++
		}
	}
	for _, p := range obs {
		if p.DeletionTimestamp != nil && metav1.IsControlledBy(&p, &j) {
			terminating++
		}
	}
	st.Ready, st.Terminating = &ready, &terminating
	if *j.Spec.CompletionMode == batchv1.IndexedCompletion {
		st.CompletedIndexes = formatIndexes(jr.SucceededIndexes)
	}
	j.Status = st
	return j
}

// StatefulSets lists the StatefulSets with their status.
func (m *Manager) StatefulSets() []appsv1.StatefulSet {
	recs, obs := m.snapshot()
	now := m.clock.Now()
	var out []appsv1.StatefulSet
	for _, r := range recs {
		if r.Object.StatefulSet == nil || r.Deleted {
			continue
		}
		ss := *r.Object.StatefulSet.DeepCopy()
		ss.ObjectMeta = objectMeta(r)
		st := appsv1.StatefulSetStatus{ObservedGeneration: r.Generation}
		if s := r.Set; s != nil {
			upd := ""
			if rev := latestRevision(s); rev != nil {
				upd = rev.Name
			}
			st.CurrentRevision, st.UpdateRevision, st.CollisionCount = s.CurrentRevision, upd, s.CollisionCount
			for _, p := range s.Pods {
				v := obs.view(p)
				if v.finished() {
					continue
				}
				st.Replicas++
				if v.ready {
					st.ReadyReplicas++
				}
				if v.available(ss.Spec.MinReadySeconds, now) {
					st.AvailableReplicas++
				}
				if p.Labels[revisionHashLabel] == st.CurrentRevision {
					st.CurrentReplicas++
				}
				if p.Labels[revisionHashLabel] == upd {
					st.UpdatedReplicas++
				}
			}
		}
		ss.Status = st
		out = append(out, ss)
	}
	return out
}

// DaemonSets lists the DaemonSets with their status on this one node.
func (m *Manager) DaemonSets() []appsv1.DaemonSet {
	recs, obs := m.snapshot()
	now := m.clock.Now()
	var out []appsv1.DaemonSet
	for _, r := range recs {
		if r.Object.DaemonSet == nil {
			continue
		}
		ds := *r.Object.DaemonSet.DeepCopy()
		ds.ObjectMeta = objectMeta(r)
		st := appsv1.DaemonSetStatus{ObservedGeneration: r.Generation}
		if s := r.Set; s != nil {
			upd := ""
			if rev := latestRevision(s); rev != nil {
				upd = rev.Name
			}
			st.CollisionCount = s.CollisionCount
			for _, p := range s.Pods {
				v := obs.view(p)
				st.DesiredNumberScheduled, st.CurrentNumberScheduled = 1, 1
				if v.ready {
					st.NumberReady = 1
				}
				if v.available(ds.Spec.MinReadySeconds, now) {
					st.NumberAvailable = 1
				}
				if p.Labels[revisionHashLabel] == upd {
					st.UpdatedNumberScheduled = 1
				}
			}
			st.NumberUnavailable = st.DesiredNumberScheduled - st.NumberAvailable
		}
		ds.Status = st
		out = append(out, ds)
	}
	return out
}

// latestRevision is the revision with the highest number.
func latestRevision(s *SetRecord) *RevisionRecord {
	var top *RevisionRecord
	for i := range s.Revisions {
		if top == nil || s.Revisions[i].Revision > top.Revision {
			top = &s.Revisions[i]
		}
	}
	return top
}
