package podsandbox

import (
	"fmt"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// Objects gives the ConfigMaps and Secrets env vars read
// (manifest.ObjectSet).
type Objects interface {
	ConfigMap(namespace, name string) (*v1.ConfigMap, bool)
	Secret(namespace, name string) (*v1.Secret, bool)
}

// EnvInputs are what a container's environment is made from.
type EnvInputs struct {
	Pod       *v1.Pod
	Container *v1.Container
	ImageEnv  []string
	PodIPs    []string
	HostIP    string
	Objects   Objects // nil: none
	// Allocatable is the node's, the value of a resourceFieldRef to a CPU
	// or memory limit the container does not set.
	Allocatable v1.ResourceList
}

// MissingError is a ConfigMap, Secret or key that an env var needs and
// that does not exist: the kubelet's CreateContainerConfigError.
type MissingError struct{ Msg string }

func (e MissingError) Error() string { return e.Msg }

// BuildEnv merges the image's environment with the container's, in the
// kubelet's order: image first, then envFrom (ConfigMaps and Secrets, each
// key with the prefix), then env (which overrides), with $(VAR) references
// in env values expanded against the container's entries before them
// (not the image's), and fieldRef, resourceFieldRef, configMapKeyRef and
// secretKeyRef values resolved. A missing ConfigMap, Secret or key that is
// not optional fails with a MissingError worded as the kubelet's.
func BuildEnv(in EnvInputs) ([]string, error) {
	c := in.Container
	order := []string{}
	vals := map[string]string{}
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, kv := range in.ImageEnv {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	own := map[string]string{}
	for _, ef := range c.EnvFrom {
		data, err := envFromData(in, ef)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			own[ef.Prefix+k] = data[k]
			set(ef.Prefix+k, data[k])
		}
	}
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom != nil {
			var skip bool
			var err error
			if v, skip, err = valueFrom(in, e.ValueFrom); err != nil {
				return nil, err
			}
			if skip {
				continue
			}
		} else {
			v = Expand(v, own)
		}
		own[e.Name] = v
		set(e.Name, v)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vals[k])
	}
	return out, nil
}

// envFromData is the data of one envFrom source (nil when it is optional
// and missing).
func envFromData(in EnvInputs, ef v1.EnvFromSource) (map[string]string, error) {
	ns := in.Pod.Namespace
	switch {
	case ef.ConfigMapRef != nil:
		cm, ok := lookupConfigMap(in.Objects, ns, ef.ConfigMapRef.Name)
		if !ok {
			if isTrue(ef.ConfigMapRef.Optional) {
				return nil, nil
			}
			return nil, MissingError{Msg: fmt.Sprintf("configmap %q not found", ef.ConfigMapRef.Name)}
		}
		out := make(map[string]string, len(cm.Data))
		for k, v := range cm.Data {
			out[k] = v
		}
		return out, nil
	case ef.SecretRef != nil:
		s, ok := lookupSecret(in.Objects, ns, ef.SecretRef.Name)
		if !ok {
			if isTrue(ef.SecretRef.Optional) {
				return nil, nil
			}
			return nil, MissingError{Msg: fmt.Sprintf("secret %q not found", ef.SecretRef.Name)}
		}
		out := make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			out[k] = string(v)
		}
		return out, nil
	}
	return nil, nil
}

// valueFrom resolves one env var's valueFrom; skip: an optional source is
// missing and the variable is not set.
func valueFrom(in EnvInputs, vf *v1.EnvVarSource) (v string, skip bool, err error) {
	ns := in.Pod.Namespace
	switch {
	case vf.FieldRef != nil:
		return FieldValue(in.Pod, vf.FieldRef.FieldPath, in.PodIPs, []string{in.HostIP}), false, nil
	case vf.ResourceFieldRef != nil:
		return ResourceValueOn(in.Container, vf.ResourceFieldRef, in.Allocatable), false, nil
	case vf.ConfigMapKeyRef != nil:
		r := vf.ConfigMapKeyRef
		cm, ok := lookupConfigMap(in.Objects, ns, r.Name)
		if !ok {
			if isTrue(r.Optional) {
				return "", true, nil
			}
			return "", false, MissingError{Msg: fmt.Sprintf("configmap %q not found", r.Name)}
		}
		val, ok := cm.Data[r.Key]
		if !ok {
			if isTrue(r.Optional) {
				return "", true, nil
			}
			return "", false, MissingError{Msg: fmt.Sprintf("couldn't find key %s in ConfigMap %s/%s", r.Key, ns, r.Name)}
		}
		return val, false, nil
	case vf.SecretKeyRef != nil:
		r := vf.SecretKeyRef
		s, ok := lookupSecret(in.Objects, ns, r.Name)
		if !ok {
			if isTrue(r.Optional) {
				return "", true, nil
			}
			return "", false, MissingError{Msg: fmt.Sprintf("secret %q not found", r.Name)}
		}
		val, ok := s.Data[r.Key]
		if !ok {
			if isTrue(r.Optional) {
				return "", true, nil
			}
			return "", false, MissingError{Msg: fmt.Sprintf("couldn't find key %s in Secret %s/%s", r.Key, ns, r.Name)}
		}
		return string(val), false, nil
	}
	return "", false, nil
}

func lookupConfigMap(o Objects, ns, name string) (*v1.ConfigMap, bool) {
	if o == nil {
		return nil, false
	}
	return o.ConfigMap(ns, name)
}

func lookupSecret(o Objects, ns, name string) (*v1.Secret, bool) {
	if o == nil {
		return nil, false
	}
	return o.Secret(ns, name)
}

func isTrue(b *bool) bool { return b != nil && *b }

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// Expand replaces $(VAR) with vars[VAR] as the kubelet does: $$ escapes a
// dollar, and a reference to an unknown variable is left as written.
func Expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
