package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Object is one ConfigMap, Secret or PersistentVolumeClaim from a manifest
// file: what an API server would hold for a cluster's pods, written beside
// the Pods in the manifest directory. Exactly one of ConfigMap, Secret and
// Claim is set.
type Object struct {
	File string // absolute path of the file it came from
	// Hash is 32 hex characters of the object's content (its canonical
	// JSON): a changed object has a new hash.
	Hash      string
	ConfigMap *v1.ConfigMap
	Secret    *v1.Secret
	Claim     *v1.PersistentVolumeClaim
}

// Kinds of Object.
const (
	KindConfigMap = "ConfigMap"
	KindSecret    = "Secret"
	KindClaim     = "PersistentVolumeClaim"
)

// Kind is the object's kind: ConfigMap, Secret or PersistentVolumeClaim.
func (o Object) Kind() string {
	switch {
	case o.ConfigMap != nil:
		return KindConfigMap
	case o.Secret != nil:
		return KindSecret
	}
	return KindClaim
}

// Meta is the object's metadata.
func (o Object) Meta() *metav1.ObjectMeta {
	switch {
	case o.ConfigMap != nil:
		return &o.ConfigMap.ObjectMeta
	case o.Secret != nil:
		return &o.Secret.ObjectMeta
	}
	return &o.Claim.ObjectMeta
}

// Key is "<kind> <namespace>/<name>", unique in a State.
func (o Object) Key() string {
	m := o.Meta()
	return o.Kind() + " " + m.Namespace + "/" + m.Name
}

// DeepCopy copies the object, so a receiver owns what it gets.
func (o Object) DeepCopy() Object {
	switch {
	case o.ConfigMap != nil:
		o.ConfigMap = o.ConfigMap.DeepCopy()
	case o.Secret != nil:
		o.Secret = o.Secret.DeepCopy()
	default:
		o.Claim = o.Claim.DeepCopy()
	}
	return o
}

// immutable reports whether the object says immutable: true.
func (o Object) immutable() bool {
	switch {
	case o.ConfigMap != nil:
		return o.ConfigMap.Immutable != nil && *o.ConfigMap.Immutable
	case o.Secret != nil:
		return o.Secret.Immutable != nil && *o.Secret.Immutable
	}
	return false
}

// objectHash hashes an object's canonical JSON.
func objectHash(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("cannot encode object: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16]), nil
}

// ObjectSet finds a State's ConfigMaps, Secrets and claims by namespace and
// name. It is read-only once made, so any number of goroutines may read it.
type ObjectSet struct {
	configMaps map[string]*v1.ConfigMap
	secrets    map[string]*v1.Secret
	claims     map[string]*v1.PersistentVolumeClaim
	hashes     map[string]string // Key → Hash
}

// NewObjectSet indexes objects. The set shares them: treat them as
// read-only.
func NewObjectSet(objs []Object) *ObjectSet {
	s := &ObjectSet{
		configMaps: map[string]*v1.ConfigMap{},
		secrets:    map[string]*v1.Secret{},
		claims:     map[string]*v1.PersistentVolumeClaim{},
		hashes:     map[string]string{},
	}
	for _, o := range objs {
		m := o.Meta()
		k := m.Namespace + "/" + m.Name
		switch {
		case o.ConfigMap != nil:
			s.configMaps[k] = o.ConfigMap
		case o.Secret != nil:
			s.secrets[k] = o.Secret
		default:
			s.claims[k] = o.Claim
		}
		s.hashes[o.Key()] = o.Hash
	}
	return s
}

// ConfigMap returns the ConfigMap namespace/name.
func (s *ObjectSet) ConfigMap(namespace, name string) (*v1.ConfigMap, bool) {
	if s == nil {
		return nil, false
	}
	c, ok := s.configMaps[namespace+"/"+name]
	return c, ok
}

// Secret returns the Secret namespace/name.
func (s *ObjectSet) Secret(namespace, name string) (*v1.Secret, bool) {
	if s == nil {
		return nil, false
	}
	c, ok := s.secrets[namespace+"/"+name]
	return c, ok
}

// Claim returns the PersistentVolumeClaim namespace/name.
func (s *ObjectSet) Claim(namespace, name string) (*v1.PersistentVolumeClaim, bool) {
	if s == nil {
		return nil, false
	}
	c, ok := s.claims[namespace+"/"+name]
	return c, ok
}

// Version is the hash of the object of that kind and namespace/name, ""
// when there is none: two sets with the same Version of an object hold the
// same object.
func (s *ObjectSet) Version(kind, namespace, name string) string {
	if s == nil {
		return ""
	}
	return s.hashes[kind+" "+namespace+"/"+name]
}

// ObjectsOf wraps ConfigMaps, Secrets and claims (pointers; other values
// are skipped) as Objects, hashed, from no file: for callers that make
// objects themselves rather than read them from files.
func ObjectsOf(items ...any) []Object {
	var out []Object
	for _, it := range items {
		var o Object
		switch v := it.(type) {
		case *v1.ConfigMap:
			o.ConfigMap = v
		case *v1.Secret:
			o.Secret = v
		case *v1.PersistentVolumeClaim:
			o.Claim = v
		default:
			continue
		}
		o.Hash, _ = objectHash(it)
		out = append(out, o)
	}
	return out
}
