package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"

	v1 "k8s.io/api/core/v1"
)

// Pods from an API server (cluster mode) carry config.source "api" and a
// File of their own form, "api:/<namespace>/<name>": HeldAPIPods in a
// State's HeldFiles holds all of them (while the pods of the API server
// are not known, none is stopped).
const (
	ConfigSourceAPI = "api"
	apiFilePrefix   = "api:/"
	// HeldAPIPods holds every pod from the API server.
	HeldAPIPods = apiFilePrefix
)

// APIFile is the File of the API pod namespace/name.
func APIFile(namespace, name string) string { return apiFilePrefix + namespace + "/" + name }

// IsAPIPod reports whether p came from an API server.
func IsAPIPod(p *v1.Pod) bool { return p.Annotations[ConfigSourceAnnotation] == ConfigSourceAPI }

// FromAPI turns a pod the API server bound to this node into a Pod: its
// UID is the API's, its hash covers the pod but its status (a metadata
// change is taken in place, as a manifest's), and it is checked for
// what minilet cannot honour. The API server validated it already; what
// only cluster mode supplies (service account tokens, imagePullSecrets,
// the service account) is not refused here.
func FromAPI(api *v1.Pod) (Pod, error) {
	pod := api.DeepCopy()
	pod.Status = v1.PodStatus{}
	pod.ManagedFields = nil
	pod.ResourceVersion = ""
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[ConfigSourceAnnotation] = ConfigSourceAPI
	if errs := validatePod(withoutClusterFields(pod)); len(errs) > 0 {
		return Pod{}, errors.New(formatFieldErrors(errs))
	}
	data, err := json.Marshal(pod)
	if err != nil {
		return Pod{}, err
	}
	h := sha256.Sum256(data)
	return Pod{Pod: pod, File: APIFile(pod.Namespace, pod.Name), Hash: hex.EncodeToString(h[:16])}, nil
}

// withoutClusterFields is pod without the fields cluster mode honours and
// validatePod refuses for a pod from a file: its deletion, service account, image
// pull secrets, ephemeral containers (added through the API) and
// serviceAccountToken projections (each replaced by an empty downwardAPI
// source, so that the source count still checks).
func withoutClusterFields(pod *v1.Pod) *v1.Pod {
	p := pod.DeepCopy()
	p.DeletionTimestamp, p.DeletionGracePeriodSeconds = nil, nil
	p.Spec.ServiceAccountName, p.Spec.DeprecatedServiceAccount = "", ""
	p.Spec.AutomountServiceAccountToken = nil
	p.Spec.ImagePullSecrets = nil
	p.Spec.EphemeralContainers = nil
	for i := range p.Spec.Volumes {
		pr := p.Spec.Volumes[i].Projected
		if pr == nil {
			continue
		}
		for j := range pr.Sources {
			if pr.Sources[j].ServiceAccountToken != nil {
				pr.Sources[j] = v1.VolumeProjection{DownwardAPI: &v1.DownwardAPIProjection{}}
			}
		}
	}
	return p
}
