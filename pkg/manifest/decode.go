package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	sigsjson "sigs.k8s.io/json"
)

// maxDocErrors caps how many broken documents one file reports.
const maxDocErrors = 5

// Decode decodes, defaults and validates the manifest bytes of one file and
// returns its pods (DecodeAll also returns its other objects). path names
// the file in errors and goes into each pod's hash; a path ending in .json
// is read as a stream of JSON values, anything else as a stream of YAML
// documents. A file without pods gives no pods and no error. The error, if
// any, is a FileError describing every broken document.
func Decode(path string, data []byte, opts Options) ([]Pod, error) {
	pods, _, err := DecodeAll(path, data, opts)
	return pods, err
}

// DecodeAll is Decode that also returns the file's ConfigMaps, Secrets and
// PersistentVolumeClaims.
func DecodeAll(path string, data []byte, opts Options) ([]Pod, []Object, error) {
	d, err := decodeFile(path, data, opts)
	if err != nil {
		return nil, nil, FileError{File: path, Err: err}
	}
	return d.pods, d.objects, nil
}

// decoded is what one file holds.
type decoded struct {
	pods      []Pod
	objects   []Object
	workloads []Workload
}

func decodeFile(path string, data []byte, opts Options) (decoded, error) {
	if len(data) > MaxFileSize {
		return decoded{}, tooBig(int64(len(data)))
	}
	var docs []document
	switch {
	case strings.EqualFold(filepath.Ext(path), ".json"):
		var err error
		if docs, err = splitJSON(data); err != nil {
			return decoded{}, err
		}
	case looksLikeJSON(data):
		// JSON in a YAML file is read as JSON, like the Kubernetes
		// YAML-or-JSON decoder does, so that a pod written out as JSON
		// reads back the same whatever the file is called. A YAML flow
		// mapping that is not JSON falls back to YAML.
		var err error
		if docs, err = splitJSON(data); err != nil {
			docs = splitYAML(data)
		}
	default:
		docs = splitYAML(data)
	}
	var (
		out  decoded
		errs []string
		seen = map[string]int{} // kind namespace/name → document
	)
	for _, d := range docs {
		pod, obj, wl, err := decodeDocument(path, d, opts)
		key := ""
		switch {
		case err != nil:
		case pod != nil:
			key = "Pod " + podKey(pod.Pod)
		case obj != nil:
			key = obj.Key()
		case wl != nil:
			key = wl.Key()
		}
		if key != "" {
			if first, dup := seen[key]; dup {
				err = fmt.Errorf("%s is already defined in document %d of this file", lowerKind(key), first)
			} else {
				seen[key] = d.num
			}
		}
		if err != nil {
			errs = append(errs, docError(d.num, err).Error())
			if len(errs) == maxDocErrors && d.num < len(docs) {
				errs = append(errs, fmt.Sprintf("stopped reading after %d broken documents", maxDocErrors))
				break
			}
			continue
		}
		if pod != nil {
			out.pods = append(out.pods, *pod)
		}
		if obj != nil {
			out.objects = append(out.objects, *obj)
		}
		if wl != nil {
			out.workloads = append(out.workloads, *wl)
		}
	}
	if len(errs) > 0 {
		return decoded{}, errors.New(strings.Join(errs, "; "))
	}
	return out, nil
}

// lowerKind writes "Pod ns/name" as "pod ns/name", "ConfigMap ns/name" as
// "configmap ns/name", as kubectl names objects in messages.
func lowerKind(key string) string {
	kind, rest, _ := strings.Cut(key, " ")
	return strings.ToLower(kind) + " " + rest
}

// decodeDocument turns one document into a finished Pod, Object or
// Workload, or none for an empty document.
func decodeDocument(path string, d document, opts Options) (*Pod, *Object, *Workload, error) {
	j, err := d.toJSON()
	if err != nil {
		return nil, nil, nil, err
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, nil, nil, fmt.Errorf("cannot read document: %w", err)
	}
	if generic == nil {
		return nil, nil, nil, nil // empty document ("~", "null")
	}
	obj, ok := generic.(map[string]any)
	if !ok {
		return nil, nil, nil, fmt.Errorf("expected a Pod, ConfigMap, Secret, PersistentVolumeClaim, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or CronJob (a mapping with apiVersion, kind and metadata), got %s", describe(generic))
	}
	kind, err := checkKind(obj)
	if err != nil {
		return nil, nil, nil, err
	}
	switch kind {
	case KindConfigMap:
		o, err := decodeConfigMap(j, obj, path)
		return nil, o, nil, err
	case KindSecret:
		o, err := decodeSecret(j, obj, path)
		return nil, o, nil, err
	case KindClaim:
		o, err := decodeClaim(j, obj, path)
		return nil, o, nil, err
	case KindDeployment, KindReplicaSet, KindStatefulSet, KindDaemonSet, KindJob, KindCronJob:
		w, err := decodeWorkload(kind, j, obj, path, opts)
		return nil, nil, w, err
	}
	if problems := checkFields(obj, reflect.TypeFor[v1.Pod](), false); len(problems) > 0 {
		return nil, nil, nil, errors.New(strings.Join(problems, "; "))
	}
	pod := new(v1.Pod)
	if err := unmarshalStrict(j, pod, "Pod"); err != nil {
		return nil, nil, nil, err
	}
	p, err := finish(pod, path, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	return &p, nil, nil, nil
}

// unmarshalStrict decodes j into v, refusing unknown and duplicate fields.
func unmarshalStrict(j []byte, v any, kind string) error {
	strict, err := sigsjson.UnmarshalStrict(j, v)
	if err != nil {
		return fmt.Errorf("cannot decode %s: %w", kind, err)
	}
	if len(strict) > 0 {
		return errors.New(strictMessage(strict))
	}
	return nil
}

// looksLikeJSON reports whether data starts like a JSON object.
func looksLikeJSON(data []byte) bool {
	data = bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(data) > 0 && data[0] == '{'
}

// kinds are the apiVersion and kind of each document minilet reads.
var kinds = map[string]string{
	"Pod": "v1", KindConfigMap: "v1", KindSecret: "v1", KindClaim: "v1",
	KindDeployment: "apps/v1", KindReplicaSet: "apps/v1", KindStatefulSet: "apps/v1", KindDaemonSet: "apps/v1",
	KindJob: "batch/v1", KindCronJob: "batch/v1",
}

// checkKind accepts apiVersion v1 with kind Pod, ConfigMap, Secret or
// PersistentVolumeClaim, and returns the kind.
func checkKind(obj map[string]any) (string, error) {
	const want = `a manifest document must say a kind minilet reads and its apiVersion: Pod, ConfigMap, Secret, PersistentVolumeClaim (v1); Deployment, ReplicaSet, StatefulSet, DaemonSet (apps/v1); Job, CronJob (batch/v1)`
	kind, hasKind := obj["kind"]
	ver, hasVer := obj["apiVersion"]
	s, isString := kind.(string)
	if !hasKind || kind == nil || kind == "" {
		return "", fmt.Errorf("kind: missing; %s", want)
	}
	if !isString {
		return "", fmt.Errorf("kind: wrong type: expected string, got %s; %s", describe(kind), want)
	}
	wantVer, known := kinds[s]
	if !known {
		for k := range kinds {
			if strings.EqualFold(s, k) {
				return "", fmt.Errorf("kind: %q must be written %q", s, k)
			}
		}
		return "", fmt.Errorf("kind: %q is not supported: %s", s, want)
	}
	switch {
	case !hasVer || ver == nil || ver == "":
		return "", fmt.Errorf("apiVersion: missing; %s", want)
	case ver != wantVer:
		if v, ok := ver.(string); ok {
			return "", fmt.Errorf("apiVersion: %q is not supported for kind %s: write %q", v, s, wantVer)
		}
		return "", fmt.Errorf("apiVersion: wrong type: expected string, got %s; %s", describe(ver), want)
	}
	return s, nil
}

// strictMessage formats sigs.k8s.io/json's strict errors as
// "path: unknown field".
func strictMessage(errs []error) string {
	var parts []string
	for _, e := range errs {
		var fe sigsjson.FieldError
		if errors.As(e, &fe) {
			kind := strings.TrimSuffix(fe.Error(), " "+strconv.Quote(fe.FieldPath()))
			parts = append(parts, fe.FieldPath()+": "+kind)
			continue
		}
		parts = append(parts, e.Error())
	}
	if len(parts) > maxProblems {
		parts = parts[:maxProblems]
	}
	return strings.Join(parts, "; ")
}

func podKey(p *v1.Pod) string { return p.Namespace + "/" + p.Name }

// tooBig is the error for a file over MaxFileSize (-1: size unknown).
func tooBig(size int64) error {
	if size < 0 {
		return fmt.Errorf("file is larger than the limit for a manifest, 1 MiB (%d bytes)", MaxFileSize)
	}
	return fmt.Errorf("file has %d bytes, more than the limit for a manifest, 1 MiB (%d bytes)", size, MaxFileSize)
}
