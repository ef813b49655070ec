package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Annotations the kubelet puts on pods from files.
const (
	ConfigSourceAnnotation = "kubernetes.io/config.source"
	ConfigHashAnnotation   = "kubernetes.io/config.hash"
	configSourceFile       = "file"
)

// finish turns a decoded pod into a Pod: it drops what only an API server
// writes, applies defaults, validates, and sets the hash, the UID, the
// kubelet's annotations and spec.nodeName.
//
// The pod keeps its name as written: the kubelet appends "-<node name>" to
// static pods so that their mirror pods do not collide across nodes; minilet
// has no API server and no mirror pods, so it does not.
func finish(pod *v1.Pod, path string, opts Options) (Pod, error) {
	// Written by an API server, meaningless in a manifest.
	pod.Status = v1.PodStatus{}
	pod.CreationTimestamp = metav1.Time{}
	pod.ManagedFields = nil
	pod.ResourceVersion = ""
	pod.Generation = 0

	setDefaults(pod)
	pod.Spec.NodeName = opts.NodeName
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[ConfigSourceAnnotation] = configSourceFile
	delete(pod.Annotations, ConfigHashAnnotation)

	if errs := validatePod(pod); len(errs) > 0 {
		return Pod{}, errors.New(formatFieldErrors(errs))
	}

	// The UID is metadata.uid, or else the hash. A pod written back out with
	// its UID equal to its hash hashes the same again.
	given := pod.UID
	pod.UID = ""
	hash, err := podHash(pod, path, opts.NodeName)
	if err != nil {
		return Pod{}, err
	}
	if given != "" && string(given) != hash {
		pod.UID = given
		if hash, err = podHash(pod, path, opts.NodeName); err != nil {
			return Pod{}, err
		}
	} else {
		pod.UID = types.UID(hash)
	}
	pod.Annotations[ConfigHashAnnotation] = hash
	return Pod{Pod: pod, File: path, Hash: hash}, nil
}

// podHash hashes the pod's canonical JSON (encoding/json writes struct
// fields in declaration order and map keys sorted), the file and the node.
func podHash(pod *v1.Pod, path, node string) (string, error) {
	data, err := json.Marshal(pod)
	if err != nil {
		return "", fmt.Errorf("cannot encode pod %s: %w", podKey(pod), err)
	}
	h := sha256.New()
	h.Write(data)
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write([]byte(node))
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

func formatFieldErrors(errs field.ErrorList) string {
	parts := make([]string, 0, len(errs))
	for i, e := range errs {
		if i == maxProblems {
			parts = append(parts, fmt.Sprintf("and %d more problems", len(errs)-maxProblems))
			break
		}
		parts = append(parts, e.Error())
	}
	return strings.Join(parts, "; ")
}

// SpecHash hashes what a pod runs: the pod without its UID, labels,
// annotations and creation time. Two versions of a pod with the same
// SpecHash differ only in metadata, which a running pod takes in place
// (its downwardAPI files follow) instead of being replaced.
func SpecHash(pod *v1.Pod) string {
	p := pod.DeepCopy()
	p.UID = ""
	p.Labels = nil
	p.Annotations = nil
	p.CreationTimestamp = metav1.Time{}
	p.Status = v1.PodStatus{}
	// Ephemeral containers are added to the running pod (minilet
	// debug), never written in its file.
	p.Spec.EphemeralContainers = nil
	data, err := json.Marshal(p)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// ControllerPod finishes a pod a workload controller made from its
// template (defaulted and validated with its workload): spec.nodeName,
// the hash and its annotation. The pod keeps the UID the controller gave
// it; the same pod from the same file on the same node hashes the same.
func ControllerPod(pod *v1.Pod, file string, opts Options) (Pod, error) {
	pod.Spec.NodeName = opts.NodeName
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	delete(pod.Annotations, ConfigHashAnnotation)
	hash, err := podHash(pod, file, opts.NodeName)
	if err != nil {
		return Pod{}, err
	}
	pod.Annotations[ConfigHashAnnotation] = hash
	return Pod{Pod: pod, File: file, Hash: hash}, nil
}
