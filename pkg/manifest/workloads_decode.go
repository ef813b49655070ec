package manifest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minilet/minilet/pkg/jobpolicy"
)

// decodeWorkload decodes, defaults and validates a Deployment, ReplicaSet
// or Job document, as the API server does when it is created.
func decodeWorkload(kind string, j []byte, generic map[string]any, path string, opts Options) (*Workload, error) {
	var (
		w    Workload
		v    any
		errs field.ErrorList
	)
	switch kind {
	case KindDeployment:
		d := new(appsv1.Deployment)
		w.Deployment, v = d, d
	case KindReplicaSet:
		rs := new(appsv1.ReplicaSet)
		w.ReplicaSet, v = rs, rs
	case KindStatefulSet:
		ss := new(appsv1.StatefulSet)
		w.StatefulSet, v = ss, ss
	case KindDaemonSet:
		ds := new(appsv1.DaemonSet)
		w.DaemonSet, v = ds, ds
	case KindCronJob:
		cj := new(batchv1.CronJob)
		w.CronJob, v = cj, cj
	default:
		job := new(batchv1.Job)
		w.Job, v = job, job
	}
	if problems := checkFields(generic, reflect.TypeOf(v).Elem(), false); len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	if err := unmarshalStrict(j, v, kind); err != nil {
		return nil, err
	}
	finishMeta(w.Meta())
	switch {
	case w.Deployment != nil:
		d := w.Deployment
		d.Status = appsv1.DeploymentStatus{}
		defaultDeployment(d)
		errs = validateDeployment(d)
	case w.ReplicaSet != nil:
		rs := w.ReplicaSet
		rs.Status = appsv1.ReplicaSetStatus{}
		defaultReplicaSet(rs)
		errs = validateReplicated(&rs.ObjectMeta, "replicaset", rs.Spec.Replicas, rs.Spec.MinReadySeconds, rs.Spec.Selector, &rs.Spec.Template)
	case w.StatefulSet != nil:
		ss := w.StatefulSet
		ss.Status = appsv1.StatefulSetStatus{}
		defaultStatefulSet(ss)
		errs = validateStatefulSet(ss)
	case w.DaemonSet != nil:
		ds := w.DaemonSet
		ds.Status = appsv1.DaemonSetStatus{}
		defaultDaemonSet(ds)
		errs = validateDaemonSet(ds)
	case w.CronJob != nil:
		cj := w.CronJob
		cj.Status = batchv1.CronJobStatus{}
		defaultCronJob(cj)
		errs = validateCronJob(cj)
	default:
		job := w.Job
		job.Status = batchv1.JobStatus{}
		defaultJob(job)
		errs = validateJob(job)
	}
	if len(errs) > 0 {
		return nil, errors.New(formatFieldErrors(errs))
	}
	w.File = path
	h, err := objectHash(v)
	if err != nil {
		return nil, err
	}
	w.Hash = h
	return &w, nil
}

// defaultTemplate applies the pod defaults to a template, as the API
// server defaults a PodTemplateSpec (the pod-template-hash is computed
// over the defaulted template).
func defaultTemplate(t *v1.PodTemplateSpec, namespace string) {
	pod := &v1.Pod{ObjectMeta: t.ObjectMeta, Spec: t.Spec}
	pod.Namespace = namespace
	setDefaults(pod)
	t.Spec = pod.Spec
}

// defaultReplicaSet is apps/v1's SetDefaults_ReplicaSet.
func defaultReplicaSet(rs *appsv1.ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = ptr(int32(1))
	}
	defaultTemplate(&rs.Spec.Template, rs.Namespace)
}

// defaultDeployment is apps/v1's SetDefaults_Deployment.
func defaultDeployment(d *appsv1.Deployment) {
	s := &d.Spec
	if s.Replicas == nil {
		s.Replicas = ptr(int32(1))
	}
	if s.Strategy.Type == "" {
		s.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if s.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if s.Strategy.RollingUpdate == nil {
			s.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		quarter := intstr.FromString("25%")
		if s.Strategy.RollingUpdate.MaxUnavailable == nil {
			s.Strategy.RollingUpdate.MaxUnavailable = &quarter
		}
		if s.Strategy.RollingUpdate.MaxSurge == nil {
			q := quarter
			s.Strategy.RollingUpdate.MaxSurge = &q
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr(int32(10))
	}
	if s.ProgressDeadlineSeconds == nil {
		s.ProgressDeadlineSeconds = ptr(int32(600))
	}
	defaultTemplate(&s.Template, d.Namespace)
}

// defaultJob is batch/v1's SetDefaults_Job.
func defaultJob(job *batchv1.Job) {
	s := &job.Spec
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = ptr(int32(1))
		s.Parallelism = ptr(int32(1))
	}
	if s.Parallelism == nil {
		s.Parallelism = ptr(int32(1))
	}
	if s.BackoffLimit == nil {
		if s.BackoffLimitPerIndex != nil {
			s.BackoffLimit = ptr(int32(1<<31 - 1))
		} else {
			s.BackoffLimit = ptr(int32(6))
		}
	}
	if s.CompletionMode == nil {
		m := batchv1.NonIndexedCompletion
		s.CompletionMode = &m
	}
	if s.Suspend == nil {
		s.Suspend = ptr(false)
	}
	if s.PodReplacementPolicy == nil {
		p := batchv1.TerminatingOrFailed
		if s.PodFailurePolicy != nil {
			p = batchv1.Failed
		}
		s.PodReplacementPolicy = &p
	}
	if s.ManualSelector == nil {
		s.ManualSelector = ptr(false)
	}
	defaultTemplate(&s.Template, job.Namespace)
}

// validateTemplate checks a workload's pod template as the pod it will
// make, with the template's field paths, and its restart policy against
// the ones the kind allows.
func validateTemplate(t *v1.PodTemplateSpec, owner *metav1.ObjectMeta, p *field.Path, policies ...v1.RestartPolicy) field.ErrorList {
	pod := &v1.Pod{ObjectMeta: *t.ObjectMeta.DeepCopy(), Spec: *t.Spec.DeepCopy()}
	pod.Name, pod.GenerateName, pod.Namespace = owner.Name, "", owner.Namespace
	var errs field.ErrorList
	if t.Name != "" || t.Namespace != "" || t.GenerateName != "" {
		errs = append(errs, field.Forbidden(p.Child("metadata", "name"), "a pod template takes its name and namespace from its controller; remove them"))
	}
	for _, e := range validatePod(pod) {
		if e.Field == "metadata.name" {
			continue // the owner's name, checked with the owner
		}
		e.Field = p.String() + "." + e.Field
		errs = append(errs, e)
	}
	if !slicesContains(policies, t.Spec.RestartPolicy) {
		vals := make([]string, len(policies))
		for i, v := range policies {
			vals[i] = string(v)
		}
		errs = append(errs, field.NotSupported(p.Child("spec", "restartPolicy"), t.Spec.RestartPolicy, vals))
	}
	if t.Spec.ActiveDeadlineSeconds != nil && len(policies) == 1 {
		errs = append(errs, field.Invalid(p.Child("spec", "activeDeadlineSeconds"), *t.Spec.ActiveDeadlineSeconds, "activeDeadlineSeconds in ReplicaSet is not Supported"))
	}
	return errs
}

func slicesContains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// validateSelector checks that a selector is set, valid, not empty, and
// matches the template's labels, as the API server does for apps/v1.
func validateSelector(sel *metav1.LabelSelector, t *v1.PodTemplateSpec, p *field.Path, what string) field.ErrorList {
	sp := p.Child("selector")
	if sel == nil {
		return field.ErrorList{field.Required(sp, "")}
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return field.ErrorList{field.Invalid(sp, sel, err.Error())}
	}
	if s.Empty() {
		return field.ErrorList{field.Invalid(sp, sel, "empty selector is invalid for "+what)}
	}
	if !s.Matches(labels.Set(t.Labels)) {
		return field.ErrorList{field.Invalid(p.Child("template", "metadata", "labels"), t.Labels, "`selector` does not match template `labels`")}
	}
	return nil
}

// validateReplicated checks what a Deployment and a ReplicaSet share.
func validateReplicated(m *metav1.ObjectMeta, what string, replicas *int32, minReady int32, sel *metav1.LabelSelector, t *v1.PodTemplateSpec) field.ErrorList {
	errs := validateMeta(m, field.NewPath("metadata"), what)
	sp := field.NewPath("spec")
	if *replicas < 0 {
		errs = append(errs, field.Invalid(sp.Child("replicas"), *replicas, "must be greater than or equal to 0"))
	}
	if minReady < 0 {
		errs = append(errs, field.Invalid(sp.Child("minReadySeconds"), minReady, "must be greater than or equal to 0"))
	}
	errs = append(errs, validateSelector(sel, t, sp, what)...)
	return append(errs, validateTemplate(t, m, sp.Child("template"), v1.RestartPolicyAlways)...)
}

// validateDeployment is the API server's ValidateDeployment, for what
// matters on one host.
func validateDeployment(d *appsv1.Deployment) field.ErrorList {
	s := &d.Spec
	sp := field.NewPath("spec")
	errs := validateReplicated(&d.ObjectMeta, "deployment", s.Replicas, s.MinReadySeconds, s.Selector, &s.Template)
	stp := sp.Child("strategy")
	switch s.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.Strategy.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(stp.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		errs = append(errs, validateRollingUpdate(s.Strategy.RollingUpdate, stp.Child("rollingUpdate"))...)
	default:
		errs = append(errs, field.NotSupported(stp.Child("type"), s.Strategy.Type, []string{string(appsv1.RecreateDeploymentStrategyType), string(appsv1.RollingUpdateDeploymentStrategyType)}))
	}
	if *s.RevisionHistoryLimit < 0 {
		errs = append(errs, field.Invalid(sp.Child("revisionHistoryLimit"), *s.RevisionHistoryLimit, "must be greater than or equal to 0"))
	}
	if pd := *s.ProgressDeadlineSeconds; pd <= s.MinReadySeconds {
		errs = append(errs, field.Invalid(sp.Child("progressDeadlineSeconds"), pd, "must be greater than minReadySeconds"))
	}
	if s.Paused {
		errs = append(errs, field.Forbidden(sp.Child("paused"), "pausing a rollout is not supported by minilet: the file is the source of truth; keep the old template in the file until you want the rollout"))
	}
	return errs
}

func validateRollingUpdate(ru *appsv1.RollingUpdateDeployment, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	check := func(v *intstr.IntOrString, name string) (zero bool) {
		fp := p.Child(name)
		switch {
		case v.Type == intstr.String:
			pct, ok := strings.CutSuffix(v.StrVal, "%")
			var n int
			if _, err := fmt.Sscanf(pct, "%d", &n); !ok || err != nil || fmt.Sprint(n) != pct {
				errs = append(errs, field.Invalid(fp, v.StrVal, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"))
				return false
			}
			if n < 0 {
				errs = append(errs, field.Invalid(fp, v.StrVal, "must be greater than or equal to 0"))
			}
			if name == "maxUnavailable" && n > 100 {
				errs = append(errs, field.Invalid(fp, v.StrVal, "must not be greater than 100%"))
			}
			return n == 0
		case v.IntVal < 0:
			errs = append(errs, field.Invalid(fp, v.IntVal, "must be greater than or equal to 0"))
		}
		return v.IntVal == 0
	}
	surgeZero := check(ru.MaxSurge, "maxSurge")
	if unavailZero := check(ru.MaxUnavailable, "maxUnavailable"); surgeZero && unavailZero {
		errs = append(errs, field.Invalid(p.Child("maxUnavailable"), ru.MaxUnavailable.String(), "may not be 0 when `maxSurge` is 0"))
	}
	return errs
}

// validateJob is the API server's ValidateJob, for what matters on one
// host.
func validateJob(job *batchv1.Job) field.ErrorList {
	s := &job.Spec
	sp := field.NewPath("spec")
	errs := validateMeta(&job.ObjectMeta, field.NewPath("metadata"), "job")
	nonNeg := func(v *int32, name string) {
		if v != nil && *v < 0 {
			errs = append(errs, field.Invalid(sp.Child(name), *v, "must be greater than or equal to 0"))
		}
	}
	nonNeg(s.Parallelism, "parallelism")
	nonNeg(s.Completions, "completions")
	nonNeg(s.BackoffLimit, "backoffLimit")
	if s.ActiveDeadlineSeconds != nil && *s.ActiveDeadlineSeconds <= 0 {
		errs = append(errs, field.Invalid(sp.Child("activeDeadlineSeconds"), *s.ActiveDeadlineSeconds, "must be greater than 0"))
	}
	if s.TTLSecondsAfterFinished != nil && *s.TTLSecondsAfterFinished < 0 {
		errs = append(errs, field.Invalid(sp.Child("ttlSecondsAfterFinished"), *s.TTLSecondsAfterFinished, "must be greater than or equal to 0"))
	}
	if !*s.ManualSelector && s.Selector != nil {
		errs = append(errs, field.Invalid(sp.Child("selector"), s.Selector, "`selector` will be auto-generated"))
	}
	if *s.ManualSelector {
		errs = append(errs, field.Forbidden(sp.Child("manualSelector"), "not supported by minilet: the Job's pods are selected by its controller-uid"))
	}
	switch *s.CompletionMode {
	case batchv1.NonIndexedCompletion:
		if s.SuccessPolicy != nil {
			errs = append(errs, field.Invalid(sp.Child("successPolicy"), "", "requires indexed completion mode"))
		}
		if s.BackoffLimitPerIndex != nil {
			errs = append(errs, field.Invalid(sp.Child("backoffLimitPerIndex"), *s.BackoffLimitPerIndex, "requires indexed completion mode"))
		}
	case batchv1.IndexedCompletion:
		if s.Completions == nil {
			errs = append(errs, field.Required(sp.Child("completions"), "when completion mode is Indexed"))
		}
		if s.BackoffLimitPerIndex != nil || s.MaxFailedIndexes != nil {
			errs = append(errs, field.Forbidden(sp.Child("backoffLimitPerIndex"), "not supported by minilet yet: use backoffLimit"))
		}
		if sp2 := s.SuccessPolicy; sp2 != nil && s.Completions != nil {
			errs = append(errs, validateSuccessPolicy(sp2, *s.Completions, sp.Child("successPolicy"))...)
		}
	default:
		errs = append(errs, field.NotSupported(sp.Child("completionMode"), *s.CompletionMode, []string{string(batchv1.NonIndexedCompletion), string(batchv1.IndexedCompletion)}))
	}
	if s.ManagedBy != nil && *s.ManagedBy != "kubernetes.io/job-controller" {
		errs = append(errs, field.Forbidden(sp.Child("managedBy"), "minilet is the only Job controller on this host"))
	}
	if s.PodReplacementPolicy != nil && *s.PodReplacementPolicy != batchv1.Failed && *s.PodReplacementPolicy != batchv1.TerminatingOrFailed {
		errs = append(errs, field.NotSupported(sp.Child("podReplacementPolicy"), *s.PodReplacementPolicy, []string{string(batchv1.TerminatingOrFailed), string(batchv1.Failed)}))
	}
	if s.PodFailurePolicy != nil {
		if s.Template.Spec.RestartPolicy != v1.RestartPolicyNever {
			errs = append(errs, field.Invalid(sp.Child("template", "spec", "restartPolicy"), s.Template.Spec.RestartPolicy, "only \"Never\" is supported when podFailurePolicy is specified"))
		}
		if *s.PodReplacementPolicy != batchv1.Failed {
			errs = append(errs, field.NotSupported(sp.Child("podReplacementPolicy"), *s.PodReplacementPolicy, []string{string(batchv1.Failed)}))
		}
	}
	return append(errs, validateTemplate(&s.Template, &job.ObjectMeta, sp.Child("template"), v1.RestartPolicyOnFailure, v1.RestartPolicyNever)...)
}

// validateSuccessPolicy is the API server's check of a Job's
// successPolicy.
func validateSuccessPolicy(p *batchv1.SuccessPolicy, completions int32, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	rp := path.Child("rules")
	if len(p.Rules) == 0 || len(p.Rules) > 20 {
		errs = append(errs, field.Invalid(rp, len(p.Rules), "must have between 1 and 20 rules"))
	}
	for i, r := range p.Rules {
		ip := rp.Index(i)
		if r.SucceededIndexes == nil && r.SucceededCount == nil {
			errs = append(errs, field.Required(ip, "at least one of succeededCount or succeededIndexes must be specified"))
			continue
		}
		size := int(completions)
		if r.SucceededIndexes != nil {
			idx, err := jobpolicy.ParseIndexes(*r.SucceededIndexes, completions)
			if err != nil {
				errs = append(errs, field.Invalid(ip.Child("succeededIndexes"), *r.SucceededIndexes, err.Error()))
				continue
			}
			size = len(idx)
		}
		if c := r.SucceededCount; c != nil {
			switch {
			case *c <= 0:
				errs = append(errs, field.Invalid(ip.Child("succeededCount"), *c, "must be greater than or equal to 1"))
			case int(*c) > size:
				errs = append(errs, field.Invalid(ip.Child("succeededCount"), *c, fmt.Sprintf("must be less than or equal to %d (the number of indexes the rule names, or completions)", size)))
			}
		}
	}
	return errs
}
