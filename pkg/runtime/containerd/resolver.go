package containerd

import (
	"context"

	"github.com/containerd/containerd/remotes"
	"github.com/containerd/containerd/remotes/docker"
	"github.com/containerd/containerd/remotes/docker/config"
	"github.com/distribution/reference"

	"github.com/minilet/minilet/pkg/runtime"
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

// Keychain finds the credentials for pulling image (normalized) from the
// registry host it contacts (credentials.Keychain). An empty user and
// secret pull anonymously; an empty user with a secret is an identity
// token.
type Keychain interface {
	Lookup(ctx context.Context, image, host string) (user, secret string, err error)
}

// resolver builds a docker registry resolver for pulling image with cred,
// or else asking the keychain at every lookup, so changed credentials
// need no restart. Credentials are never logged.
func (r *Runtime) resolver(ctx context.Context, image string, cred *runtime.Credential) remotes.Resolver {
	creds := func(host string) (string, string, error) {
		if cred != nil {
			return cred.User, cred.Secret, nil
		}
		if r.opts.Credentials == nil {
			return "", "", nil
		}
		return r.opts.Credentials.Lookup(ctx, image, host)
	}
	return docker.NewResolver(docker.ResolverOptions{
		Hosts: config.ConfigureHosts(ctx, config.HostOptions{Credentials: creds}),
	})
}
