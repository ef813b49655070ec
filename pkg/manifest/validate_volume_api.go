package manifest

import (
	"path"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Volumes whose files come from objects (configMap, secret, downwardAPI,
// projected) are checked as the API server checks them.

func validateConfigMapVolume(s *v1.ConfigMapVolumeSource, p *field.Path) field.ErrorList {
	return validateKeyVolume(s.Name, p.Child("name"), "ConfigMap", s.DefaultMode, s.Items, p)
}

func validateSecretVolume(s *v1.SecretVolumeSource, p *field.Path) field.ErrorList {
	return validateKeyVolume(s.SecretName, p.Child("secretName"), "Secret", s.DefaultMode, s.Items, p)
}

// validateKeyVolume checks a volume of an object's keys: the object's
// name, the default mode and the items.
func validateKeyVolume(name string, np *field.Path, kind string, mode *int32, items []v1.KeyToPath, p *field.Path) field.ErrorList {
	errs := objectName(name, np, kind)
	errs = append(errs, validateMode(mode, p.Child("defaultMode"))...)
	return append(errs, validateItems(items, p.Child("items"), map[string]bool{})...)
}

// validateKeySource checks a projected configMap or secret source: a name
// and its items, whose paths must not repeat across the volume's sources.
func validateKeySource(name, kind string, items []v1.KeyToPath, p *field.Path, paths map[string]bool) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), "name the "+kind))
	}
	return append(errs, validateItems(items, p.Child("items"), paths)...)
}

// validateItems checks the items of a volume source against the paths the
// volume has so far.
func validateItems(items []v1.KeyToPath, p *field.Path, paths map[string]bool) field.ErrorList {
	var errs field.ErrorList
	for i := range items {
		errs = append(errs, validateKeyToPath(&items[i], p.Index(i), paths)...)
	}
	return errs
}

func validateDownwardAPIVolume(s *v1.DownwardAPIVolumeSource, p *field.Path) field.ErrorList {
	errs := validateMode(s.DefaultMode, p.Child("defaultMode"))
	paths := map[string]bool{}
	for i := range s.Items {
		errs = append(errs, validateDownwardAPIFile(&s.Items[i], p.Child("items").Index(i), paths)...)
	}
	return errs
}

func validateProjected(s *v1.ProjectedVolumeSource, p *field.Path) field.ErrorList {
	errs := validateMode(s.DefaultMode, p.Child("defaultMode"))
	paths := map[string]bool{}
	for i := range s.Sources {
		src := &s.Sources[i]
		sp := p.Child("sources").Index(i)
		n := 0
		if c := src.ConfigMap; c != nil {
			n++
			errs = append(errs, validateKeySource(c.Name, "ConfigMap", c.Items, sp.Child("configMap"), paths)...)
		}
		if c := src.Secret; c != nil {
			n++
			errs = append(errs, validateKeySource(c.Name, "Secret", c.Items, sp.Child("secret"), paths)...)
		}
		if d := src.DownwardAPI; d != nil {
			n++
			for j := range d.Items {
				errs = append(errs, validateDownwardAPIFile(&d.Items[j], sp.Child("downwardAPI", "items").Index(j), paths)...)
			}
		}
		if src.ServiceAccountToken != nil {
			n++
			errs = append(errs, field.Forbidden(sp.Child("serviceAccountToken"), "a service account token is issued by an API server (TokenRequest), which minilet does not have; put a token in a Secret instead"))
		}
		if src.ClusterTrustBundle != nil {
			n++
			errs = append(errs, field.Forbidden(sp.Child("clusterTrustBundle"), "ClusterTrustBundle objects live in an API server, which minilet does not have; put the bundle in a ConfigMap instead"))
		}
		if src.PodCertificate != nil {
			n++
			errs = append(errs, field.Forbidden(sp.Child("podCertificate"), "pod certificates are issued through an API server, which minilet does not have; put the certificate in a Secret instead"))
		}
		if n != 1 {
			errs = append(errs, field.Forbidden(sp, "must have exactly one source (configMap, secret or downwardAPI)"))
		}
	}
	return errs
}

// validateKeyToPath checks one item of a configMap or secret volume; paths
// collects the paths of one volume, which must not repeat.
func validateKeyToPath(k *v1.KeyToPath, p *field.Path, paths map[string]bool) field.ErrorList {
	var errs field.ErrorList
	if k.Key == "" {
		errs = append(errs, field.Required(p.Child("key"), "name the key"))
	} else {
		errs = append(errs, keyErrors(p.Child("key"), k.Key)...)
	}
	errs = append(errs, validateVolumePath(k.Path, p.Child("path"), paths)...)
	return append(errs, validateMode(k.Mode, p.Child("mode"))...)
}

// downwardAPIVolumePaths are the pod fields a downwardAPI file can hold
// (status fields only go into env, as on the API server).
func downwardAPIVolumePaths() []string {
	return []string{"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations"}
}

func validateDownwardAPIFile(f *v1.DownwardAPIVolumeFile, p *field.Path, paths map[string]bool) field.ErrorList {
	errs := validateVolumePath(f.Path, p.Child("path"), paths)
	errs = append(errs, validateMode(f.Mode, p.Child("mode"))...)
	switch {
	case f.FieldRef != nil && f.ResourceFieldRef != nil:
		errs = append(errs, field.Invalid(p, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
	case f.FieldRef != nil:
		fp := p.Child("fieldRef")
		if f.FieldRef.APIVersion != "v1" {
			errs = append(errs, field.NotSupported(fp.Child("apiVersion"), f.FieldRef.APIVersion, []string{"v1"}))
		}
		ok := false
		for _, k := range downwardAPIVolumePaths() {
			ok = ok || f.FieldRef.FieldPath == k
		}
		if !ok {
			if key, sub := subscriptOf(f.FieldRef.FieldPath); sub {
				errs = append(errs, labelKeyErrors(fp.Child("fieldPath"), f.FieldRef.FieldPath, key)...)
			} else {
				errs = append(errs, field.NotSupported(fp.Child("fieldPath"), f.FieldRef.FieldPath,
					append(downwardAPIVolumePaths(), "metadata.labels['<KEY>']", "metadata.annotations['<KEY>']")))
			}
		}
	case f.ResourceFieldRef != nil:
		rp := p.Child("resourceFieldRef")
		if f.ResourceFieldRef.ContainerName == "" {
			errs = append(errs, field.Required(rp.Child("containerName"), "a downwardAPI volume must name the container whose resources it shows"))
		}
		errs = append(errs, validateResourceRef(f.ResourceFieldRef, rp)...)
	default:
		errs = append(errs, field.Required(p, "one of fieldRef and resourceFieldRef is required"))
	}
	return errs
}

// subscriptOf splits metadata.labels['k'] or metadata.annotations['k'].
func subscriptOf(fp string) (string, bool) {
	for _, prefix := range []string{"metadata.labels['", "metadata.annotations['"} {
		if rest, ok := strings.CutPrefix(fp, prefix); ok {
			if key, ok := strings.CutSuffix(rest, "']"); ok {
				return key, true
			}
		}
	}
	return "", false
}

func labelKeyErrors(p *field.Path, fp, key string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(strings.ToLower(key)) {
		errs = append(errs, field.Invalid(p, fp, msg))
	}
	return errs
}

// resourceRefNames are the resources a resourceFieldRef can show.
func resourceRefNames() []string {
	return []string{"limits.cpu", "limits.memory", "limits.ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage"}
}

func validateResourceRef(r *v1.ResourceFieldSelector, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	ok := false
	for _, n := range resourceRefNames() {
		ok = ok || r.Resource == n
	}
	if !ok && !strings.HasPrefix(r.Resource, "limits.hugepages-") && !strings.HasPrefix(r.Resource, "requests.hugepages-") {
		errs = append(errs, field.NotSupported(p.Child("resource"), r.Resource, resourceRefNames()))
	}
	if !r.Divisor.IsZero() && r.Divisor.Sign() < 0 {
		errs = append(errs, field.Invalid(p.Child("divisor"), r.Divisor.String(), "must be positive"))
	}
	if strings.HasSuffix(r.Resource, ".cpu") && !r.Divisor.IsZero() {
		switch r.Divisor.String() {
		case "1m", "1":
		default:
			errs = append(errs, field.Invalid(p.Child("divisor"), r.Divisor.String(), "only divisor's values 1m and 1 are supported with the cpu resource"))
		}
	}
	return errs
}

// validateVolumePath checks a file path inside a volume: relative, no
// '..' element, not starting with '..', unique in the volume.
func validateVolumePath(v string, p *field.Path, paths map[string]bool) field.ErrorList {
	var errs field.ErrorList
	switch {
	case v == "":
		errs = append(errs, field.Required(p, "name the file"))
	case path.IsAbs(v):
		errs = append(errs, field.Invalid(p, v, "must be a relative path"))
	case hasDotDotElement(v):
		errs = append(errs, field.Invalid(p, v, "must not contain '..'"))
	case strings.HasPrefix(v, ".."):
		errs = append(errs, field.Invalid(p, v, "must not start with '..'"))
	case paths[path.Clean(v)]:
		errs = append(errs, field.Invalid(p, v, "conflicting duplicate paths"))
	}
	paths[path.Clean(v)] = true
	return errs
}

func hasDotDotElement(v string) bool {
	for _, part := range strings.Split(v, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

// validateMode checks a file mode: 0 to 0777.
func validateMode(m *int32, p *field.Path) field.ErrorList {
	if m != nil && (*m < 0 || *m > 0o777) {
		return field.ErrorList{field.Invalid(p, *m, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

// validateEphemeral checks a generic ephemeral volume: a claim made for the
// pod and removed with it.
func validateEphemeral(e *v1.EphemeralVolumeSource, p *field.Path) field.ErrorList {
	if e.VolumeClaimTemplate == nil {
		return field.ErrorList{field.Required(p.Child("volumeClaimTemplate"), "an ephemeral volume needs a volumeClaimTemplate")}
	}
	return validateClaimSpec(&e.VolumeClaimTemplate.Spec, p.Child("volumeClaimTemplate", "spec"))
}
