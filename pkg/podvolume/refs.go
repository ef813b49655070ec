package podvolume

import (
	v1 "k8s.io/api/core/v1"
)

// Ref names one object a pod reads.
type Ref struct {
	Kind string // ConfigMap, Secret or PersistentVolumeClaim
	Name string // in the pod's namespace
}

// Refs lists the ConfigMaps, Secrets and PersistentVolumeClaims a pod
// reads through its volumes (projected sources included), env, envFrom
// and imagePullSecrets, each once, in the order the pod names them; a
// serviceAccountToken source is the Secret TokenSecretName.
func Refs(pod *v1.Pod) []Ref {
	var out []Ref
	seen := map[Ref]bool{}
	add := func(kind, name string) {
		r := Ref{Kind: kind, Name: name}
		if name != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			add("ConfigMap", v.ConfigMap.Name)
		case v.Secret != nil:
			add("Secret", v.Secret.SecretName)
		case v.PersistentVolumeClaim != nil:
			add("PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName)
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.ConfigMap != nil {
					add("ConfigMap", s.ConfigMap.Name)
				}
				if s.Secret != nil {
					add("Secret", s.Secret.Name)
				}
				if t := s.ServiceAccountToken; t != nil {
					add("Secret", TokenSecretName(string(pod.UID), v.Name, t.Path))
				}
			}
		}
	}
	for _, list := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef != nil {
					add("ConfigMap", ef.ConfigMapRef.Name)
				}
				if ef.SecretRef != nil {
					add("Secret", ef.SecretRef.Name)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					add("ConfigMap", r.Name)
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					add("Secret", r.Name)
				}
			}
		}
	}
	for _, s := range pod.Spec.ImagePullSecrets {
		add("Secret", s.Name)
	}
	return out
}
