package manifest

import (
	"fmt"
	"path"
	"reflect"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateVolumes checks the pod's volumes and returns the set of their
// names. emptyDir, hostPath, configMap, secret, downwardAPI, projected,
// persistentVolumeClaim and ephemeral work on one host.
func validateVolumes(vols []v1.Volume, p *field.Path) (map[string]bool, field.ErrorList) {
	var errs field.ErrorList
	names := map[string]bool{}
	for i := range vols {
		v := &vols[i]
		vp := p.Index(i)
		switch {
		case v.Name == "":
			errs = append(errs, field.Required(vp.Child("name"), "every volume needs a name"))
		case names[v.Name]:
			errs = append(errs, field.Duplicate(vp.Child("name"), v.Name))
		default:
			errs = append(errs, dnsErrors(vp.Child("name"), v.Name, validation.IsDNS1123Label)...)
		}
		names[v.Name] = true

		types := volumeTypes(&v.VolumeSource)
		if len(types) > 1 {
			errs = append(errs, field.Forbidden(vp, fmt.Sprintf("may not have more than one volume type, found %s", strings.Join(types, " and "))))
			continue
		}
		for _, t := range types {
			switch {
			case t == "emptyDir":
				errs = append(errs, validateEmptyDir(v.EmptyDir, vp.Child("emptyDir"))...)
			case t == "hostPath":
				errs = append(errs, validateHostPath(v.HostPath, vp.Child("hostPath"))...)
			case t == "configMap":
				errs = append(errs, validateConfigMapVolume(v.ConfigMap, vp.Child("configMap"))...)
			case t == "secret":
				errs = append(errs, validateSecretVolume(v.Secret, vp.Child("secret"))...)
			case t == "downwardAPI":
				errs = append(errs, validateDownwardAPIVolume(v.DownwardAPI, vp.Child("downwardAPI"))...)
			case t == "projected":
				errs = append(errs, validateProjected(v.Projected, vp.Child("projected"))...)
			case t == "persistentVolumeClaim":
				if v.PersistentVolumeClaim.ClaimName == "" {
					errs = append(errs, field.Required(vp.Child("persistentVolumeClaim", "claimName"), "name the PersistentVolumeClaim"))
				} else {
					errs = append(errs, dnsErrors(vp.Child("persistentVolumeClaim", "claimName"), v.PersistentVolumeClaim.ClaimName, validation.IsDNS1123Subdomain)...)
				}
			case t == "ephemeral":
				errs = append(errs, validateEphemeral(v.Ephemeral, vp.Child("ephemeral"))...)
			default:
				errs = append(errs, field.Forbidden(vp.Child(t), fmt.Sprintf("volume type %s is not supported by minilet: it needs a storage driver; use a persistentVolumeClaim (a directory on this host), hostPath or emptyDir", t)))
			}
		}
	}
	return names, errs
}

// volumeTypes returns the JSON names of the sources set in a VolumeSource.
func volumeTypes(s *v1.VolumeSource) []string {
	var out []string
	rv := reflect.ValueOf(s).Elem()
	for i := 0; i < rv.NumField(); i++ {
		if f := rv.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
			out = append(out, name)
		}
	}
	return out
}

func validateEmptyDir(e *v1.EmptyDirVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch m := e.Medium; {
	case m == v1.StorageMediumDefault, m == v1.StorageMediumMemory:
	case m == v1.StorageMediumHugePages, strings.HasPrefix(string(m), string(v1.StorageMediumHugePagesPrefix)):
		errs = append(errs, field.Forbidden(p.Child("medium"), "hugepages are not supported by minilet yet; use Memory or the default medium"))
	default:
		errs = append(errs, field.NotSupported(p.Child("medium"), m, []v1.StorageMedium{
			v1.StorageMediumDefault, v1.StorageMediumMemory, v1.StorageMediumHugePages, "HugePages-<size>"}))
	}
	if e.SizeLimit != nil && e.SizeLimit.Sign() < 0 {
		errs = append(errs, field.Invalid(p.Child("sizeLimit"), e.SizeLimit.String(), "must not be negative"))
	}
	return errs
}

func hostPathTypes() []v1.HostPathType {
	return []v1.HostPathType{
		v1.HostPathUnset, v1.HostPathDirectoryOrCreate, v1.HostPathDirectory,
		v1.HostPathFileOrCreate, v1.HostPathFile, v1.HostPathSocket,
		v1.HostPathCharDev, v1.HostPathBlockDev,
	}
}

func validateHostPath(h *v1.HostPathVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case h.Path == "":
		errs = append(errs, field.Required(p.Child("path"), "hostPath needs a path"))
	case !path.IsAbs(h.Path):
		errs = append(errs, field.Invalid(p.Child("path"), h.Path, "must be an absolute path"))
	default:
		for _, part := range strings.Split(h.Path, "/") {
			if part == ".." {
				errs = append(errs, field.Invalid(p.Child("path"), h.Path, "must not contain '..'"))
				break
			}
		}
	}
	if h.Type != nil {
		known := false
		for _, t := range hostPathTypes() {
			known = known || *h.Type == t
		}
		if !known {
			errs = append(errs, field.NotSupported(p.Child("type"), *h.Type, hostPathTypes()))
		}
	}
	return errs
}
