package credentials

import (
	"context"
	"errors"
	"strings"

	"github.com/distribution/reference"
)

// Keychain finds the credentials for a pull: the credential provider
// plugins first (when configured and one matches the image), then the
// docker config (when given). A zero Keychain pulls anonymously.
type Keychain struct {
	Plugins      *Plugins // nil: none
	DockerConfig string   // path of a config.json; "": none
	helper       helperRunner
}

// Lookup returns the credentials for pulling image (a normalized
// reference) from host (the registry contacted: registry-1.docker.io for
// docker.io). Empty user and secret: anonymous.
func (k *Keychain) Lookup(ctx context.Context, image, host string) (user, secret string, err error) {
	var errs []error
	if k.Plugins != nil {
		u, s, found, err := k.Plugins.Lookup(ctx, image)
		if found {
			return u, s, nil
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if k.DockerConfig != "" {
		helper := k.helper
		if helper == nil {
			helper = runHelper
		}
		u, s, found, err := lookupDocker(k.DockerConfig, host, helper)
		if found {
			return u, s, nil
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return "", "", errors.Join(errs...)
}

// imageRepo is image without its tag or digest, as plugins match it:
// "123.dkr.ecr.us-east-1.amazonaws.com/app".
func imageRepo(image string) string {
	if n, err := reference.ParseNormalizedNamed(image); err == nil {
		return n.Name()
	}
	if i := strings.IndexAny(image, "@"); i >= 0 {
		image = image[:i]
	}
	return image
}
