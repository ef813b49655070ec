package manifest

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// DefaultEphemeral gives an ephemeral container the API server's
// defaults (pull policy, termination message path and policy).
func DefaultEphemeral(ec *v1.EphemeralContainer) {
	c := v1.Container(ec.EphemeralContainerCommon)
	defaultContainer(&c)
	ec.EphemeralContainerCommon = v1.EphemeralContainerCommon(c)
}

// ValidateEphemeral checks a new list of a running pod's ephemeral
// containers as the API server checks an update of the
// ephemeralcontainers subresource: the ones there stay unchanged, new
// ones have unique names, an image, a target among the pod's containers,
// and none of the fields an ephemeral container may not have (ports,
// probes, lifecycle, resources, resizePolicy, restartPolicy).
func ValidateEphemeral(pod *v1.Pod, list []v1.EphemeralContainer) error {
	p := field.NewPath("spec", "ephemeralContainers")
	var errs field.ErrorList
	old := map[string]*v1.EphemeralContainer{}
	for i := range pod.Spec.EphemeralContainers {
		old[pod.Spec.EphemeralContainers[i].Name] = &pod.Spec.EphemeralContainers[i]
	}
	kept := map[string]bool{}
	names := map[string]bool{}
	for _, c := range pod.Spec.InitContainers {
		names[c.Name] = true
	}
	for _, c := range pod.Spec.Containers {
		names[c.Name] = true
	}
	targets := map[string]bool{}
	for n := range names {
		targets[n] = true
	}
	volumes := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = true
	}
	for i := range list {
		ec := &list[i]
		ep := p.Index(i)
		if o, ok := old[ec.Name]; ok {
			if !apiequality.Semantic.DeepEqual(o, ec) {
				errs = append(errs, field.Forbidden(ep, "existing ephemeral containers may not be changed"))
			}
			kept[ec.Name] = true
			continue
		}
		switch {
		case ec.Name == "":
			errs = append(errs, field.Required(ep.Child("name"), "every container needs a name"))
		case names[ec.Name]:
			errs = append(errs, field.Duplicate(ep.Child("name"), ec.Name))
		default:
			errs = append(errs, dnsErrors(ep.Child("name"), ec.Name, validation.IsDNS1123Label)...)
		}
		names[ec.Name] = true
		if t := ec.TargetContainerName; t != "" && !targets[t] {
			errs = append(errs, field.NotFound(ep.Child("targetContainerName"), t))
		}
		forbid := func(set bool, name string) {
			if set {
				errs = append(errs, field.Forbidden(ep.Child(name), "cannot be set for an Ephemeral Container"))
			}
		}
		forbid(len(ec.Ports) > 0, "ports")
		forbid(ec.LivenessProbe != nil, "livenessProbe")
		forbid(ec.ReadinessProbe != nil, "readinessProbe")
		forbid(ec.StartupProbe != nil, "startupProbe")
		forbid(ec.Lifecycle != nil, "lifecycle")
		forbid(len(ec.Resources.Limits) > 0 || len(ec.Resources.Requests) > 0 || len(ec.Resources.Claims) > 0, "resources")
		forbid(len(ec.ResizePolicy) > 0, "resizePolicy")
		forbid(ec.RestartPolicy != nil, "restartPolicy")
		for j, m := range ec.VolumeMounts {
			if m.SubPath != "" || m.SubPathExpr != "" {
				errs = append(errs, field.Forbidden(ep.Child("volumeMounts").Index(j), "subPath is not allowed for ephemeral containers"))
			}
		}
		c := v1.Container(ec.EphemeralContainerCommon)
		errs = append(errs, validateContainer(&c, ep, volumes, false)...)
	}
	for n := range old {
		if !kept[n] {
			errs = append(errs, field.Forbidden(p, fmt.Sprintf("existing ephemeral container %q may not be removed", n)))
		}
	}
	return errs.ToAggregate()
}

// CheckEphemeralContainer checks one of the pod's ephemeral containers for
// what minilet cannot honour. The API server validated those added
// through it (kubectl debug) as it validates any; this is what minilet
// refuses beyond that (stdin without a terminal, alpha fields), which
// ValidateEphemeral checks for `minilet debug`.
func CheckEphemeralContainer(pod *v1.Pod, name string) error {
	volumes := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = true
	}
	for i := range pod.Spec.EphemeralContainers {
		if ec := pod.Spec.EphemeralContainers[i]; ec.Name == name {
			DefaultEphemeral(&ec) // as the API server has
			c := v1.Container(ec.EphemeralContainerCommon)
			return validateContainer(&c, field.NewPath("spec", "ephemeralContainers").Index(i), volumes, false).ToAggregate()
		}
	}
	return fmt.Errorf("no ephemeral container %q", name)
}
