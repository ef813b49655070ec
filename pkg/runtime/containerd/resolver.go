package containerd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/containerd/containerd/remotes"
	"github.com/containerd/containerd/remotes/docker"
	"github.com/containerd/containerd/remotes/docker/config"
	"github.com/distribution/reference"
)

// normalizeRef turns "busybox" into "docker.io/library/busybox:latest", as
// the kubelet and containerd's CRI do.
func normalizeRef(ref string) (string, error) {
	n, err := reference.ParseDockerRef(ref)
	if err != nil {
		return "", err
	}
	return n.String(), nil
}

// resolver builds a docker registry resolver that reads credentials from the
// configured docker-style config.json at every lookup, so a changed file
// needs no restart. Credentials are never logged.
func (r *Runtime) resolver() remotes.Resolver {
	creds := func(host string) (string, string, error) {
		if r.opts.CredentialsFile == "" {
			return "", "", nil
		}
		return lookupCredentials(r.opts.CredentialsFile, host)
	}
	return docker.NewResolver(docker.ResolverOptions{
		Hosts: config.ConfigureHosts(nil, config.HostOptions{Credentials: creds}),
	})
}

// dockerConfig is the part of ~/.docker/config.json that holds credentials.
type dockerConfig struct {
	Auths map[string]struct {
		Auth     string `json:"auth"`
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"auths"`
}

// lookupCredentials finds host's credentials in a docker config.json. Keys
// may be bare hosts or URLs ("https://index.docker.io/v1/").
func lookupCredentials(path, host string) (string, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("read registry credentials: %w", err)
	}
	var cfg dockerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return "", "", fmt.Errorf("parse registry credentials %s: %w", path, err)
	}
	want := host
	if host == "registry-1.docker.io" {
		want = "docker.io"
	}
	for key, a := range cfg.Auths {
		k := strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
		k = strings.SplitN(k, "/", 2)[0]
		if k == "index.docker.io" {
			k = "docker.io"
		}
		if k != want {
			continue
		}
		if a.Auth != "" {
			dec, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return "", "", fmt.Errorf("registry credentials for %s in %s: auth is not base64", host, path)
			}
			user, pass, ok := strings.Cut(string(dec), ":")
			if !ok {
				return "", "", fmt.Errorf("registry credentials for %s in %s: auth is not user:password", host, path)
			}
			return user, pass, nil
		}
		return a.Username, a.Password, nil
	}
	return "", "", nil
}
