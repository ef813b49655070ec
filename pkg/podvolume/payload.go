package podvolume

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
)

// Objects gives the ConfigMaps and Secrets a pod refers to
// (manifest.ObjectSet).
type Objects interface {
	ConfigMap(namespace, name string) (*v1.ConfigMap, bool)
	Secret(namespace, name string) (*v1.Secret, bool)
}

// File is one file of a volume.
type File struct {
	Data []byte
	Mode fs.FileMode
}

// Payload is the content of one volume: relative path → file.
type Payload map[string]File

// Inputs are what a volume's payload is made from.
type Inputs struct {
	Pod     *v1.Pod
	Objects Objects
	// Allocatable is the node's, shown for a CPU or memory limit that a
	// container does not set (as the kubelet does).
	Allocatable v1.ResourceList
}

// HasFiles reports whether v is a volume whose files minilet writes
// (configMap, secret, downwardAPI or projected).
func HasFiles(v *v1.Volume) bool {
	return v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil || v.Projected != nil
}

// InMemory reports whether v's files live on a tmpfs: secret and projected
// volumes (which may hold secrets), as on the kubelet.
func InMemory(v *v1.Volume) bool { return v.Secret != nil || v.Projected != nil }

// MissingError is a ConfigMap, Secret or key that a volume or env var
// needs and that does not exist (the kubelet's FailedMount and
// CreateContainerConfigError cases).
type MissingError struct{ msg string }

func (e MissingError) Error() string { return e.msg }

func missingObject(kind, name string) error {
	return MissingError{msg: fmt.Sprintf("%s %q not found", kind, name)}
}

// For makes the payload of one volume. It fails (with a MissingError) when
// a ConfigMap, Secret or key it needs is missing and not optional.
func For(in Inputs, v *v1.Volume) (Payload, error) {
	out := Payload{}
	switch {
	case v.ConfigMap != nil:
		s := v.ConfigMap
		cm, ok := in.Objects.ConfigMap(in.Pod.Namespace, s.Name)
		if !ok {
			if isTrue(s.Optional) {
				return out, nil
			}
			return nil, missingObject("configmap", s.Name)
		}
		return out, addKeys(out, configMapData(cm), s.Items, mode(s.DefaultMode), isTrue(s.Optional), "configmap references non-existent config key: ")
	case v.Secret != nil:
		s := v.Secret
		sec, ok := in.Objects.Secret(in.Pod.Namespace, s.SecretName)
		if !ok {
			if isTrue(s.Optional) {
				return out, nil
			}
			return nil, missingObject("secret", s.SecretName)
		}
		return out, addKeys(out, sec.Data, s.Items, mode(s.DefaultMode), isTrue(s.Optional), "references non-existent secret key: ")
	case v.DownwardAPI != nil:
		return out, addDownward(out, in, v.DownwardAPI.Items, mode(v.DownwardAPI.DefaultMode))
	case v.Projected != nil:
		return projected(in, v.Name, v.Projected)
	}
	return nil, fmt.Errorf("volume %q has no files minilet writes", v.Name)
}

func projected(in Inputs, volume string, p *v1.ProjectedVolumeSource) (Payload, error) {
	out := Payload{}
	def := mode(p.DefaultMode)
	for _, src := range p.Sources {
		switch {
		case src.ConfigMap != nil:
			s := src.ConfigMap
			cm, ok := in.Objects.ConfigMap(in.Pod.Namespace, s.Name)
			if !ok {
				if isTrue(s.Optional) {
					continue
				}
				return nil, missingObject("configmap", s.Name)
			}
			if err := addKeys(out, configMapData(cm), s.Items, def, isTrue(s.Optional), "configmap references non-existent config key: "); err != nil {
				return nil, err
			}
		case src.Secret != nil:
			s := src.Secret
			sec, ok := in.Objects.Secret(in.Pod.Namespace, s.Name)
			if !ok {
				if isTrue(s.Optional) {
					continue
				}
				return nil, missingObject("secret", s.Name)
			}
			if err := addKeys(out, sec.Data, s.Items, def, isTrue(s.Optional), "references non-existent secret key: "); err != nil {
				return nil, err
			}
		case src.DownwardAPI != nil:
			if err := addDownward(out, in, src.DownwardAPI.Items, def); err != nil {
				return nil, err
			}
		case src.ServiceAccountToken != nil:
			t := src.ServiceAccountToken
			sec, ok := in.Objects.Secret(in.Pod.Namespace, TokenSecretName(string(in.Pod.UID), volume, t.Path))
			if !ok || len(sec.Data[TokenKey]) == 0 {
				return nil, MissingError{msg: "service account token for " + t.Path + " not issued yet"}
			}
			out[t.Path] = File{Data: sec.Data[TokenKey], Mode: def}
		default:
			return nil, fmt.Errorf("projected source not supported by minilet")
		}
	}
	return out, nil
}

// configMapData merges a ConfigMap's data and binaryData.
func configMapData(cm *v1.ConfigMap) map[string][]byte {
	out := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		out[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		out[k] = v
	}
	return out
}

// addKeys adds every key of data (no items) or the items, as the kubelet's
// MakePayload: a missing item key fails unless optional.
func addKeys(out Payload, data map[string][]byte, items []v1.KeyToPath, def fs.FileMode, optional bool, missingMsg string) error {
	if len(items) == 0 {
		for k, v := range data {
			out[k] = File{Data: v, Mode: def}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return MissingError{msg: missingMsg + it.Key}
		}
		m := def
		if it.Mode != nil {
			m = fs.FileMode(*it.Mode)
		}
		out[path.Clean(it.Path)] = File{Data: v, Mode: m}
	}
	return nil
}

func addDownward(out Payload, in Inputs, items []v1.DownwardAPIVolumeFile, def fs.FileMode) error {
	for _, it := range items {
		m := def
		if it.Mode != nil {
			m = fs.FileMode(*it.Mode)
		}
		var val string
		switch {
		case it.FieldRef != nil:
			val = podsandbox.FieldValue(in.Pod, it.FieldRef.FieldPath, nil, nil)
		case it.ResourceFieldRef != nil:
			c := findContainer(in.Pod, it.ResourceFieldRef.ContainerName)
			if c == nil {
				return fmt.Errorf("downwardAPI file %q: container %q not found in the pod", it.Path, it.ResourceFieldRef.ContainerName)
			}
			val = podsandbox.ResourceValueOn(c, it.ResourceFieldRef, in.Allocatable)
		}
		out[path.Clean(it.Path)] = File{Data: []byte(val), Mode: m}
	}
	return nil
}

func findContainer(pod *v1.Pod, name string) *v1.Container {
	for _, list := range [][]v1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

func mode(m *int32) fs.FileMode {
	if m == nil {
		return 0o644
	}
	return fs.FileMode(*m)
}

func isTrue(b *bool) bool { return b != nil && *b }

// Digest is a hash of a payload's paths, modes and contents: equal
// payloads have equal digests.
func (p Payload) Digest() string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		f := p[k]
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(strconv.FormatUint(uint64(f.Mode), 8)))
		h.Write([]byte{0})
		h.Write([]byte(strconv.Itoa(len(f.Data))))
		h.Write([]byte{0})
		h.Write(f.Data)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
