package credentials

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/distribution/reference"
	v1 "k8s.io/api/core/v1"
)

// Auth is one registry login: a user and password, or an identity token
// (an empty User).
type Auth struct {
	User, Secret string
}

// dockerAuth is one entry of a .dockerconfigjson's auths (or of a
// .dockercfg).
type dockerAuth struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
}

// ForImage returns the logins a pod's imagePullSecrets hold for image, as
// the kubelet's keyring finds them: secrets of type
// kubernetes.io/dockerconfigjson (.dockerconfigjson) and
// kubernetes.io/dockercfg (.dockercfg) are read, other types skipped; an
// entry's key ("registry.example.com", "registry.example.com/team",
// "*.example.com", "https://index.docker.io/v1/") matches the image by
// the kubelet's rule (matchImage), the most specific keys first, and
// within a key the secrets in the pod's order. A secret that cannot be
// read is an error naming it (never its content); the others still count.
func ForImage(secrets []*v1.Secret, image string) ([]Auth, error) {
	target := image
	if n, err := reference.ParseDockerRef(image); err == nil {
		target = n.String()
	}
	type match struct {
		key  string
		auth Auth
	}
	var found []match
	var errs []string
	for _, s := range secrets {
		entries, err := secretAuths(s)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		keys := make([]string, 0, len(entries))
		for k := range entries {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			key := keyringKey(k)
			if !matchImage(key, target) {
				continue
			}
			a, err := entries[k].login()
			if err != nil {
				errs = append(errs, fmt.Sprintf("image pull secret %s/%s, entry %q: %v", s.Namespace, s.Name, k, err))
				continue
			}
			found = append(found, match{key, a})
		}
	}
	// The kubelet's keyring looks keys up in reverse lexical order, so
	// that "registry/team" comes before "registry".
	sort.SliceStable(found, func(i, j int) bool { return found[i].key > found[j].key })
	out := make([]Auth, 0, len(found))
	for _, m := range found {
		out = append(out, m.auth)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// secretAuths reads the auths of a pull secret; nil for a secret of
// another type.
func secretAuths(s *v1.Secret) (map[string]dockerAuth, error) {
	switch {
	case s.Type == v1.SecretTypeDockerConfigJson && s.Data[v1.DockerConfigJsonKey] != nil:
		var cfg struct {
			Auths map[string]dockerAuth `json:"auths"`
		}
		if err := json.Unmarshal(s.Data[v1.DockerConfigJsonKey], &cfg); err != nil {
			return nil, fmt.Errorf("image pull secret %s/%s: %s is not a docker config.json", s.Namespace, s.Name, v1.DockerConfigJsonKey)
		}
		return cfg.Auths, nil
	case s.Type == v1.SecretTypeDockercfg && s.Data[v1.DockerConfigKey] != nil:
		var auths map[string]dockerAuth
		if err := json.Unmarshal(s.Data[v1.DockerConfigKey], &auths); err != nil {
			return nil, fmt.Errorf("image pull secret %s/%s: %s is not a .dockercfg", s.Namespace, s.Name, v1.DockerConfigKey)
		}
		return auths, nil
	}
	return nil, nil
}

// login is the user and secret of an entry: the identity token, else the
// base64 "user:password" auth, else username and password.
func (a dockerAuth) login() (Auth, error) {
	switch {
	case a.IdentityToken != "":
		return Auth{Secret: a.IdentityToken}, nil
	case a.Auth != "":
		dec, err := base64.StdEncoding.DecodeString(a.Auth)
		if err != nil {
			return Auth{}, fmt.Errorf("auth is not base64")
		}
		user, pass, ok := strings.Cut(string(dec), ":")
		if !ok {
			return Auth{}, fmt.Errorf("auth is not user:password")
		}
		return Auth{User: user, Secret: pass}, nil
	}
	return Auth{User: a.Username, Secret: a.Password}, nil
}

// keyringKey is a config key as the kubelet's keyring files it: without
// its scheme, Docker Hub's names ("index.docker.io/v1/") as docker.io.
func keyringKey(k string) string {
	k = strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://")
	host, path, _ := strings.Cut(k, "/")
	switch host {
	case "index.docker.io", "registry-1.docker.io", "docker.io":
		if path == "v1/" || path == "v1" || path == "v2/" || path == "v2" {
			path = ""
		}
		host = "docker.io"
	}
	if path == "" {
		return host
	}
	return host + "/" + strings.TrimSuffix(path, "/")
}
