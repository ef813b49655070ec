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

// Decode decodes, defaults and validates the manifest bytes of one file.
// path names the file in errors and goes into each pod's hash; a path
// ending in .json is read as a stream of JSON values, anything else as a
// stream of YAML documents. A file without pods gives no pods and no error.
// The error, if any, is a FileError describing every broken document.
func Decode(path string, data []byte, opts Options) ([]Pod, error) {
	pods, err := decodeFile(path, data, opts)
	if err != nil {
		return nil, FileError{File: path, Err: err}
	}
	return pods, nil
}

func decodeFile(path string, data []byte, opts Options) ([]Pod, error) {
	if len(data) > MaxFileSize {
		return nil, tooBig(int64(len(data)))
	}
	var docs []document
	switch {
	case strings.EqualFold(filepath.Ext(path), ".json"):
		var err error
		if docs, err = splitJSON(data); err != nil {
			return nil, err
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
		pods []Pod
		errs []string
		seen = map[string]int{} // namespace/name → document
	)
	for _, d := range docs {
		pod, err := decodeDocument(path, d, opts)
		if err == nil && pod != nil {
			key := podKey(pod.Pod)
			if first, dup := seen[key]; dup {
				err = fmt.Errorf("pod %s is already defined in document %d of this file", key, first)
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
			pods = append(pods, *pod)
		}
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return pods, nil
}

// decodeDocument turns one document into a finished Pod, or nil for an
// empty document.
func decodeDocument(path string, d document, opts Options) (*Pod, error) {
	j, err := d.toJSON()
	if err != nil {
		return nil, err
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("cannot read document: %w", err)
	}
	if generic == nil {
		return nil, nil // empty document ("~", "null")
	}
	obj, ok := generic.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected a Pod (a mapping with apiVersion, kind, metadata and spec), got %s", describe(generic))
	}
	if err := checkKind(obj); err != nil {
		return nil, err
	}
	if problems := checkFields(obj, reflect.TypeFor[v1.Pod]()); len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	pod := new(v1.Pod)
	strict, err := sigsjson.UnmarshalStrict(j, pod)
	if err != nil {
		return nil, fmt.Errorf("cannot decode Pod: %w", err)
	}
	if len(strict) > 0 {
		return nil, errors.New(strictMessage(strict))
	}
	p, err := finish(pod, path, opts)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// looksLikeJSON reports whether data starts like a JSON object.
func looksLikeJSON(data []byte) bool {
	data = bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(data) > 0 && data[0] == '{'
}

// checkKind accepts only apiVersion v1, kind Pod.
func checkKind(obj map[string]any) error {
	const want = `a manifest must say "apiVersion: v1" and "kind: Pod"`
	kind, hasKind := obj["kind"]
	ver, hasVer := obj["apiVersion"]
	switch {
	case !hasKind || kind == nil || kind == "":
		return fmt.Errorf("kind: missing; %s", want)
	case kind != "Pod":
		if s, ok := kind.(string); ok && strings.EqualFold(s, "Pod") {
			return fmt.Errorf("kind: %q must be written \"Pod\"", s)
		}
		if s, ok := kind.(string); ok {
			return fmt.Errorf("kind: %q is not supported: minilet runs only Pods; %s", s, want)
		}
		return fmt.Errorf("kind: wrong type: expected string, got %s; %s", describe(kind), want)
	case !hasVer || ver == nil || ver == "":
		return fmt.Errorf("apiVersion: missing; %s", want)
	case ver != "v1":
		if s, ok := ver.(string); ok {
			return fmt.Errorf("apiVersion: %q is not supported for kind Pod; %s", s, want)
		}
		return fmt.Errorf("apiVersion: wrong type: expected string, got %s; %s", describe(ver), want)
	}
	return nil
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
