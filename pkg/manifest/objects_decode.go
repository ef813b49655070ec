package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MaxObjectSize is the largest sum of a ConfigMap's or Secret's values, as
// the API server limits it (v1.MaxSecretSize, also used for ConfigMaps).
const MaxObjectSize = v1.MaxSecretSize

// decodeConfigMap decodes, defaults and validates a ConfigMap document.
func decodeConfigMap(j []byte, generic map[string]any, path string) (*Object, error) {
	if problems := checkFields(generic, reflect.TypeFor[v1.ConfigMap](), false); len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	cm := new(v1.ConfigMap)
	if err := unmarshalStrict(j, cm, KindConfigMap); err != nil {
		return nil, err
	}
	finishMeta(&cm.ObjectMeta)
	if errs := validateConfigMap(cm); len(errs) > 0 {
		return nil, errors.New(formatFieldErrors(errs))
	}
	return newObject(Object{File: path, ConfigMap: cm}, cm)
}

// decodeSecret decodes, defaults and validates a Secret document. Its
// messages never hold a value of the Secret.
func decodeSecret(j []byte, generic map[string]any, path string) (*Object, error) {
	if problems := checkFields(generic, reflect.TypeFor[v1.Secret](), true); len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	s := new(v1.Secret)
	if err := unmarshalStrict(j, s, KindSecret); err != nil {
		// sigs.k8s.io/json's errors name fields and types, not values.
		return nil, err
	}
	finishMeta(&s.ObjectMeta)
	// As the API server does: stringData is merged into data (and wins),
	// then dropped; an unset type is Opaque.
	if len(s.StringData) > 0 && s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
	if s.Type == "" {
		s.Type = v1.SecretTypeOpaque
	}
	if errs := validateSecret(s); len(errs) > 0 {
		return nil, errors.New(formatFieldErrors(errs))
	}
	return newObject(Object{File: path, Secret: s}, s)
}

// decodeClaim decodes, defaults and validates a PersistentVolumeClaim
// document.
func decodeClaim(j []byte, generic map[string]any, path string) (*Object, error) {
	if problems := checkFields(generic, reflect.TypeFor[v1.PersistentVolumeClaim](), false); len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	c := new(v1.PersistentVolumeClaim)
	if err := unmarshalStrict(j, c, KindClaim); err != nil {
		return nil, err
	}
	finishMeta(&c.ObjectMeta)
	c.Status = v1.PersistentVolumeClaimStatus{}
	if c.Spec.VolumeMode == nil {
		c.Spec.VolumeMode = ptr(v1.PersistentVolumeFilesystem)
	}
	if errs := validateClaim(c); len(errs) > 0 {
		return nil, errors.New(formatFieldErrors(errs))
	}
	return newObject(Object{File: path, Claim: c}, c)
}

func newObject(o Object, v any) (*Object, error) {
	h, err := objectHash(v)
	if err != nil {
		return nil, err
	}
	o.Hash = h
	return &o, nil
}

// finishMeta drops what only an API server writes and defaults the
// namespace.
func finishMeta(m *metav1.ObjectMeta) {
	m.CreationTimestamp = metav1.Time{}
	m.ManagedFields = nil
	m.ResourceVersion = ""
	m.Generation = 0
	if m.Namespace == "" {
		m.Namespace = v1.NamespaceDefault
	}
}

// validateConfigMap checks what the API server checks of a ConfigMap.
func validateConfigMap(cm *v1.ConfigMap) field.ErrorList {
	errs := validateMeta(&cm.ObjectMeta, field.NewPath("metadata"), "configmap")
	size := 0
	for _, k := range sortedMapKeys(cm.Data) {
		p := field.NewPath("data").Key(k)
		errs = append(errs, keyErrors(p, k)...)
		if _, dup := cm.BinaryData[k]; dup {
			errs = append(errs, field.Invalid(p, k, "duplicate of key present in binaryData"))
		}
		size += len(cm.Data[k])
	}
	for _, k := range sortedMapKeys(cm.BinaryData) {
		p := field.NewPath("binaryData").Key(k)
		errs = append(errs, keyErrors(p, k)...)
		if _, dup := cm.Data[k]; dup {
			errs = append(errs, field.Invalid(p, k, "duplicate of key present in data"))
		}
		size += len(cm.BinaryData[k])
	}
	if size > MaxObjectSize {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", MaxObjectSize))
	}
	return errs
}

// validateSecret checks what the API server checks of a Secret, and
// refuses the type that needs its token controller. It names keys, never
// values.
func validateSecret(s *v1.Secret) field.ErrorList {
	errs := validateMeta(&s.ObjectMeta, field.NewPath("metadata"), "secret")
	data := field.NewPath("data")
	size := 0
	for _, k := range sortedMapKeys(s.Data) {
		errs = append(errs, keyErrors(data.Key(k), k)...)
		size += len(s.Data[k])
	}
	if size > MaxObjectSize {
		errs = append(errs, field.TooLong(data, "", MaxObjectSize))
	}
	need := func(keys ...string) {
		for _, k := range keys {
			if _, ok := s.Data[k]; !ok {
				errs = append(errs, field.Required(data.Key(k), fmt.Sprintf("a Secret of type %s needs the key %s", s.Type, k)))
			}
		}
	}
	jsonKey := func(k string) {
		need(k)
		if v, ok := s.Data[k]; ok {
			var m map[string]any
			if err := json.Unmarshal(v, &m); err != nil {
				errs = append(errs, field.Invalid(data.Key(k), "<secret contents redacted>", "must be a JSON object: "+redactJSONError(err)))
			}
		}
	}
	switch s.Type {
	case v1.SecretTypeServiceAccountToken:
		errs = append(errs, field.Forbidden(field.NewPath("type"), "a service-account-token Secret is filled in by the token controller of an API server, which minilet does not have; use an Opaque Secret holding the token"))
	case v1.SecretTypeDockercfg:
		jsonKey(v1.DockerConfigKey)
	case v1.SecretTypeDockerConfigJson:
		jsonKey(v1.DockerConfigJsonKey)
	case v1.SecretTypeBasicAuth:
		_, user := s.Data[v1.BasicAuthUsernameKey]
		_, pass := s.Data[v1.BasicAuthPasswordKey]
		if !user && !pass {
			errs = append(errs, field.Required(data.Key(v1.BasicAuthUsernameKey), "a basic-auth Secret needs username or password"))
		}
	case v1.SecretTypeSSHAuth:
		if len(s.Data[v1.SSHAuthPrivateKey]) == 0 {
			errs = append(errs, field.Required(data.Key(v1.SSHAuthPrivateKey), "an ssh-auth Secret needs the key ssh-privatekey"))
		}
	case v1.SecretTypeTLS:
		need(v1.TLSCertKey, v1.TLSPrivateKeyKey)
	}
	return errs
}

// redactJSONError keeps the kind of a JSON error but not the text around
// it (encoding/json quotes the offending character, not the value).
func redactJSONError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "expected an object, got " + te.Value
	}
	return "not JSON"
}

func keyErrors(p *field.Path, k string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsConfigMapKey(k) {
		errs = append(errs, field.Invalid(p, k, msg))
	}
	return errs
}

// validateClaim checks a PersistentVolumeClaim as the API server does, and
// refuses what a directory on this host cannot be.
func validateClaim(c *v1.PersistentVolumeClaim) field.ErrorList {
	errs := validateMeta(&c.ObjectMeta, field.NewPath("metadata"), "persistentvolumeclaim")
	sp := field.NewPath("spec")
	errs = append(errs, validateClaimSpec(&c.Spec, sp)...)
	return errs
}

// validateClaimSpec checks a claim's spec (also a volumeClaimTemplate's).
func validateClaimSpec(s *v1.PersistentVolumeClaimSpec, sp *field.Path) field.ErrorList {
	var errs field.ErrorList
	modes := []v1.PersistentVolumeAccessMode{v1.ReadWriteOnce, v1.ReadOnlyMany, v1.ReadWriteMany, v1.ReadWriteOncePod}
	if len(s.AccessModes) == 0 {
		errs = append(errs, field.Required(sp.Child("accessModes"), "at least 1 access mode is required"))
	}
	for i, m := range s.AccessModes {
		known := false
		for _, k := range modes {
			known = known || m == k
		}
		if !known {
			errs = append(errs, field.NotSupported(sp.Child("accessModes").Index(i), m, modes))
		}
		if m == v1.ReadWriteOncePod && len(s.AccessModes) > 1 {
			errs = append(errs, field.Forbidden(sp.Child("accessModes"), "may not use ReadWriteOncePod with other access modes"))
		}
	}
	storage, ok := s.Resources.Requests[v1.ResourceStorage]
	switch {
	case !ok:
		errs = append(errs, field.Required(sp.Child("resources", "requests").Key(string(v1.ResourceStorage)), "a claim must say how much storage it requests"))
	case storage.Sign() <= 0:
		errs = append(errs, field.Invalid(sp.Child("resources", "requests").Key(string(v1.ResourceStorage)), storage.String(), "must be greater than zero"))
	}
	for _, list := range []struct {
		name string
		l    v1.ResourceList
	}{{"requests", s.Resources.Requests}, {"limits", s.Resources.Limits}} {
		for _, n := range sortedMapKeys(list.l) {
			if n != v1.ResourceStorage {
				errs = append(errs, field.NotSupported(sp.Child("resources", list.name).Key(string(n)), n, []v1.ResourceName{v1.ResourceStorage}))
			}
		}
	}
	if m := s.VolumeMode; m != nil && *m != v1.PersistentVolumeFilesystem {
		errs = append(errs, field.NotSupported(sp.Child("volumeMode"), *m, []v1.PersistentVolumeMode{v1.PersistentVolumeFilesystem}))
	}
	const noBinding = "a claim on minilet is a directory on this host; there are no PersistentVolumes to bind or copy from"
	if s.Selector != nil {
		errs = append(errs, field.Forbidden(sp.Child("selector"), noBinding))
	}
	if s.VolumeName != "" {
		errs = append(errs, field.Forbidden(sp.Child("volumeName"), noBinding))
	}
	if s.DataSource != nil {
		errs = append(errs, field.Forbidden(sp.Child("dataSource"), noBinding))
	}
	if s.DataSourceRef != nil {
		errs = append(errs, field.Forbidden(sp.Child("dataSourceRef"), noBinding))
	}
	if s.VolumeAttributesClassName != nil {
		errs = append(errs, field.Forbidden(sp.Child("volumeAttributesClassName"), "volume attributes classes need a CSI driver; minilet's claims are directories on this host"))
	}
	return errs
}

// ControllerClaim is the Object of a claim a StatefulSet makes from its
// volumeClaimTemplates (validated with the StatefulSet).
func ControllerClaim(c *v1.PersistentVolumeClaim, file string) (Object, error) {
	o, err := newObject(Object{File: file, Claim: c}, c)
	if err != nil {
		return Object{}, err
	}
	return *o, nil
}
