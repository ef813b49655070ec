package podvolume

import (
	"strings"

	v1 "k8s.io/api/core/v1"
)

// A serviceAccountToken source of a projected volume is written from a
// token the API server issued for the pod (TokenRequest, in cluster
// mode). The token reaches the volume code as a Secret of the object set
// under a name no real Secret can have (it holds ':'), with the token
// under the key "token": the volume is rewritten, like one of a changed
// Secret, when the token is rotated.

// TokenKey is the key of the token in a token Secret.
const TokenKey = "token"

const tokenPrefix = "token:"

// TokenSource is one serviceAccountToken source of a pod's volumes.
type TokenSource struct {
	Volume string
	v1.ServiceAccountTokenProjection
}

// TokenSecretName is the name of the Secret that holds the token of the
// source at path in volume for the pod with uid.
func TokenSecretName(uid, volume, path string) string {
	return tokenPrefix + uid + ":" + volume + ":" + path
}

// IsTokenSecretName reports whether name is a TokenSecretName, not a
// Secret of the API or of a file.
func IsTokenSecretName(name string) bool { return strings.HasPrefix(name, tokenPrefix) }

// Tokens lists the serviceAccountToken sources of pod's projected
// volumes.
func Tokens(pod *v1.Pod) []TokenSource {
	var out []TokenSource
	for _, v := range pod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if s.ServiceAccountToken != nil {
				out = append(out, TokenSource{Volume: v.Name, ServiceAccountTokenProjection: *s.ServiceAccountToken})
			}
		}
	}
	return out
}
