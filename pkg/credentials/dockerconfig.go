package credentials

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	dclient "github.com/docker/docker-credential-helpers/client"
	dcredentials "github.com/docker/docker-credential-helpers/credentials"
)

// dockerConfig is the part of a docker config.json that says where
// credentials are.
type dockerConfig struct {
	Auths map[string]struct {
		Auth     string `json:"auth"`
		Username string `json:"username"`
		Password string `json:"password"`
		// IdentityToken is an OAuth refresh token, used instead of a
		// password.
		IdentityToken string `json:"identitytoken"`
	} `json:"auths"`
	CredHelpers map[string]string `json:"credHelpers"`
	CredsStore  string            `json:"credsStore"`
}

// helperRunner runs `docker-credential-<name> get` for serverURL.
type helperRunner func(name, serverURL string) (*dcredentials.Credentials, error)

func runHelper(name, serverURL string) (*dcredentials.Credentials, error) {
	return dclient.Get(dclient.NewShellProgramFunc("docker-credential-"+name), serverURL)
}

// lookupDocker finds host's credentials in the docker config at path, as
// docker does: the registry's credHelpers entry, else the credsStore, else
// auths. Keys may be bare hosts or URLs ("https://index.docker.io/v1/").
// An empty user with a secret is an identity token.
func lookupDocker(path, host string, helper helperRunner) (user, secret string, found bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", false, fmt.Errorf("read registry credentials: %w", err)
	}
	var cfg dockerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return "", "", false, fmt.Errorf("parse registry credentials %s: %w", path, err)
	}
	want := registryKey(host)
	name := ""
	for k, h := range cfg.CredHelpers {
		if registryKey(k) == want {
			name = h
		}
	}
	if name == "" {
		name = cfg.CredsStore
	}
	if name != "" {
		server := host
		if want == "docker.io" {
			server = "https://index.docker.io/v1/"
		}
		c, err := helper(name, server)
		if dcredentials.IsErrCredentialsNotFound(err) {
			return "", "", false, nil
		}
		if err != nil {
			return "", "", false, fmt.Errorf("registry credentials for %s from docker-credential-%s: %w", host, name, helperError(err))
		}
		if c.Username == "<token>" {
			return "", c.Secret, true, nil
		}
		return c.Username, c.Secret, true, nil
	}
	for key, a := range cfg.Auths {
		if registryKey(key) != want {
			continue
		}
		switch {
		case a.IdentityToken != "":
			return "", a.IdentityToken, true, nil
		case a.Auth != "":
			dec, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return "", "", false, fmt.Errorf("registry credentials for %s in %s: auth is not base64", host, path)
			}
			user, pass, ok := strings.Cut(string(dec), ":")
			if !ok {
				return "", "", false, fmt.Errorf("registry credentials for %s in %s: auth is not user:password", host, path)
			}
			return user, pass, true, nil
		}
		return a.Username, a.Password, true, nil
	}
	return "", "", false, nil
}

// registryKey reduces a config key or a host to the registry's name:
// scheme and path dropped, Docker Hub's names to docker.io.
func registryKey(k string) string {
	k = strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://")
	k, _, _ = strings.Cut(k, "/")
	switch k {
	case "index.docker.io", "registry-1.docker.io":
		return "docker.io"
	}
	return k
}

// helperError keeps a helper's error short: its output is not repeated
// (it could hold a secret a broken helper printed).
func helperError(err error) error {
	return fmt.Errorf("%s", firstLine(err.Error()))
}
