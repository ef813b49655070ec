package manifest

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// defaultStatefulSet is apps/v1's SetDefaults_StatefulSet.
func defaultStatefulSet(ss *appsv1.StatefulSet) {
	s := &ss.Spec
	if s.Replicas == nil {
		s.Replicas = ptr(int32(1))
	}
	if s.PodManagementPolicy == "" {
		s.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
	}
	if s.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
		if s.UpdateStrategy.RollingUpdate.Partition == nil {
			s.UpdateStrategy.RollingUpdate.Partition = ptr(int32(0))
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr(int32(10))
	}
	if s.PersistentVolumeClaimRetentionPolicy == nil {
		s.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	rp := s.PersistentVolumeClaimRetentionPolicy
	if rp.WhenDeleted == "" {
		rp.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if rp.WhenScaled == "" {
		rp.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	for i := range s.VolumeClaimTemplates {
		c := &s.VolumeClaimTemplates[i]
		if c.Spec.VolumeMode == nil {
			m := v1.PersistentVolumeFilesystem
			c.Spec.VolumeMode = &m
		}
		if c.Namespace == "" {
			c.Namespace = ss.Namespace
		}
	}
	defaultTemplate(&s.Template, ss.Namespace)
}

// validateStatefulSet is the API server's ValidateStatefulSet, for what
// matters on one host.
func validateStatefulSet(ss *appsv1.StatefulSet) field.ErrorList {
	s := &ss.Spec
	sp := field.NewPath("spec")
	errs := validateMeta(&ss.ObjectMeta, field.NewPath("metadata"), "statefulset")
	if *s.Replicas < 0 {
		errs = append(errs, field.Invalid(sp.Child("replicas"), *s.Replicas, "must be greater than or equal to 0"))
	}
	if s.MinReadySeconds < 0 {
		errs = append(errs, field.Invalid(sp.Child("minReadySeconds"), s.MinReadySeconds, "must be greater than or equal to 0"))
	}
	switch s.PodManagementPolicy {
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.Invalid(sp.Child("podManagementPolicy"), s.PodManagementPolicy, fmt.Sprintf("must be '%s' or '%s'", appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement)))
	}
	up := sp.Child("updateStrategy")
	switch s.UpdateStrategy.Type {
	case appsv1.OnDeleteStatefulSetStrategyType:
		if s.UpdateStrategy.RollingUpdate != nil {
			errs = append(errs, field.Invalid(up.Child("rollingUpdate"), "", fmt.Sprintf("only allowed for updateStrategy '%s'", appsv1.RollingUpdateStatefulSetStrategyType)))
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		ru := s.UpdateStrategy.RollingUpdate
		if *ru.Partition < 0 {
			errs = append(errs, field.Invalid(up.Child("rollingUpdate", "partition"), *ru.Partition, "must be greater than or equal to 0"))
		}
		if ru.MaxUnavailable != nil {
			errs = append(errs, field.Forbidden(up.Child("rollingUpdate", "maxUnavailable"), "not supported by minilet (an alpha feature of Kubernetes): pods are updated one at a time"))
		}
	default:
		errs = append(errs, field.Invalid(up.Child("type"), s.UpdateStrategy.Type, fmt.Sprintf("must be '%s' or '%s'", appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType)))
	}
	rp := s.PersistentVolumeClaimRetentionPolicy
	for _, p := range []struct {
		name string
		v    appsv1.PersistentVolumeClaimRetentionPolicyType
	}{{"whenDeleted", rp.WhenDeleted}, {"whenScaled", rp.WhenScaled}} {
		if p.v != appsv1.RetainPersistentVolumeClaimRetentionPolicyType && p.v != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
			errs = append(errs, field.NotSupported(sp.Child("persistentVolumeClaimRetentionPolicy", p.name), p.v, []string{string(appsv1.RetainPersistentVolumeClaimRetentionPolicyType), string(appsv1.DeletePersistentVolumeClaimRetentionPolicyType)}))
		}
	}
	if o := s.Ordinals; o != nil && o.Start < 0 {
		errs = append(errs, field.Invalid(sp.Child("ordinals", "start"), o.Start, "must be greater than or equal to 0"))
	}
	if s.ServiceName != "" {
		errs = append(errs, dnsErrors(sp.Child("serviceName"), s.ServiceName, validation.IsDNS1123Label)...)
	}
	errs = append(errs, validateSelector(s.Selector, &s.Template, sp, "statefulset")...)
	// The template's volume mounts may name claim templates: validate the
	// pod as the controller makes it, with the claims as volumes.
	t := s.Template.DeepCopy()
	seen := map[string]bool{}
	for i := range s.VolumeClaimTemplates {
		c := &s.VolumeClaimTemplates[i]
		cp := sp.Child("volumeClaimTemplates").Index(i)
		errs = append(errs, dnsErrors(cp.Child("metadata", "name"), c.Name, validation.IsDNS1123Label)...)
		if seen[c.Name] {
			errs = append(errs, field.Duplicate(cp.Child("metadata", "name"), c.Name))
		}
		seen[c.Name] = true
		errs = append(errs, validateClaimSpec(&c.Spec, cp.Child("spec"))...)
		t.Spec.Volumes = SetClaimVolume(t.Spec.Volumes, c.Name, c.Name+"-"+ss.Name+"-0")
	}
	return append(errs, validateTemplate(t, &ss.ObjectMeta, sp.Child("template"), v1.RestartPolicyAlways)...)
}

// SetClaimVolume makes the volume name a persistentVolumeClaim of claim,
// in place of a template volume of that name, as the StatefulSet
// controller does.
func SetClaimVolume(vols []v1.Volume, name, claim string) []v1.Volume {
	vol := v1.Volume{Name: name, VolumeSource: v1.VolumeSource{PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}
	for i := range vols {
		if vols[i].Name == name {
			vols[i] = vol
			return vols
		}
	}
	return append(vols, vol)
}

// defaultDaemonSet is apps/v1's SetDefaults_DaemonSet.
func defaultDaemonSet(ds *appsv1.DaemonSet) {
	s := &ds.Spec
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if s.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		ru := s.UpdateStrategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			one := intstr.FromInt32(1)
			ru.MaxUnavailable = &one
		}
		if ru.MaxSurge == nil {
			zero := intstr.FromInt32(0)
			ru.MaxSurge = &zero
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr(int32(10))
	}
	defaultTemplate(&s.Template, ds.Namespace)
}

// validateDaemonSet is the API server's ValidateDaemonSet, for what
// matters on one host.
func validateDaemonSet(ds *appsv1.DaemonSet) field.ErrorList {
	s := &ds.Spec
	sp := field.NewPath("spec")
	errs := validateMeta(&ds.ObjectMeta, field.NewPath("metadata"), "daemonset")
	if s.MinReadySeconds < 0 {
		errs = append(errs, field.Invalid(sp.Child("minReadySeconds"), s.MinReadySeconds, "must be greater than or equal to 0"))
	}
	up := sp.Child("updateStrategy")
	switch s.UpdateStrategy.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
	case appsv1.RollingUpdateDaemonSetStrategyType:
		ru := s.UpdateStrategy.RollingUpdate
		errs = append(errs, validateRollingUpdate(&appsv1.RollingUpdateDeployment{MaxSurge: ru.MaxSurge, MaxUnavailable: ru.MaxUnavailable}, up.Child("rollingUpdate"))...)
	default:
		errs = append(errs, field.NotSupported(up.Child("type"), s.UpdateStrategy.Type, []string{string(appsv1.OnDeleteDaemonSetStrategyType), string(appsv1.RollingUpdateDaemonSetStrategyType)}))
	}
	errs = append(errs, validateSelector(s.Selector, &s.Template, sp, "daemonset")...)
	return append(errs, validateTemplate(&s.Template, &ds.ObjectMeta, sp.Child("template"), v1.RestartPolicyAlways)...)
}
