package credentials

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletconfig "k8s.io/kubelet/config/v1"
	credv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
	"sigs.k8s.io/yaml"
)

// pluginTimeout bounds one run of a plugin.
const pluginTimeout = time.Minute

const pluginAPIVersion = "credentialprovider.kubelet.k8s.io/v1"

// Plugins runs the kubelet's credential provider plugins of a
// CredentialProviderConfig and caches what they answer for as long as they
// say. It is safe for concurrent use.
type Plugins struct {
	providers []provider
	now       func() time.Time

	mu    sync.Mutex
	cache map[string]cached // by provider name + cache key
}

type provider struct {
	kubeletconfig.CredentialProvider
	bin string
}

type cached struct {
	auth    map[string]credv1.AuthConfig
	expires time.Time
}

// LoadPlugins reads a CredentialProviderConfig (YAML or JSON, as the
// kubelet's --image-credential-provider-config) and checks every provider
// as the kubelet does at start: each names a plugin executable in binDir.
func LoadPlugins(configPath, binDir string) (*Plugins, error) {
	data, err := os.ReadFile(configPath)
	if err != nil {
		return nil, fmt.Errorf("read credential provider config: %w", err)
	}
	var cfg kubeletconfig.CredentialProviderConfig
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return nil, fmt.Errorf("credential provider config %s: %w", configPath, err)
	}
	if cfg.Kind != "CredentialProviderConfig" || cfg.APIVersion != "kubelet.config.k8s.io/v1" {
		return nil, fmt.Errorf("credential provider config %s: apiVersion %q, kind %q: want kubelet.config.k8s.io/v1 CredentialProviderConfig", configPath, cfg.APIVersion, cfg.Kind)
	}
	if binDir == "" {
		return nil, errors.New("--image-credential-provider-bin-dir is required with --image-credential-provider-config")
	}
	var problems []string
	p := &Plugins{now: time.Now, cache: map[string]cached{}}
	seen := map[string]bool{}
	for i, cp := range cfg.Providers {
		path := fmt.Sprintf("providers[%d]", i)
		switch {
		case cp.Name == "" || strings.ContainsAny(cp.Name, `/\`) || cp.Name == "." || cp.Name == "..":
			problems = append(problems, fmt.Sprintf("%s.name: Invalid value: %q: must be the file name of a plugin in the bin dir", path, cp.Name))
			continue
		case seen[cp.Name]:
			problems = append(problems, fmt.Sprintf("%s.name: Duplicate value: %q", path, cp.Name))
		}
		seen[cp.Name] = true
		if len(cp.MatchImages) == 0 {
			problems = append(problems, path+".matchImages: Required value: at least one image to match")
		}
		for j, m := range cp.MatchImages {
			if _, err := parseNoScheme(m); err != nil || strings.Contains(m, "://") {
				problems = append(problems, fmt.Sprintf("%s.matchImages[%d]: Invalid value: %q: not an image pattern", path, j, m))
			}
		}
		if cp.DefaultCacheDuration == nil || cp.DefaultCacheDuration.Duration < 0 {
			problems = append(problems, path+".defaultCacheDuration: Required value: a duration of 0 or more")
		}
		if cp.APIVersion != pluginAPIVersion {
			problems = append(problems, fmt.Sprintf("%s.apiVersion: Unsupported value: %q: minilet speaks %s", path, cp.APIVersion, pluginAPIVersion))
		}
		if cp.TokenAttributes != nil {
			problems = append(problems, path+".tokenAttributes: Forbidden: minilet has no service accounts to give a plugin tokens of")
		}
		bin := filepath.Join(binDir, cp.Name)
		if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			problems = append(problems, fmt.Sprintf("%s.name: plugin %s is not an executable file", path, bin))
		}
		p.providers = append(p.providers, provider{CredentialProvider: cp, bin: bin})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("credential provider config %s: %s", configPath, strings.Join(problems, "; "))
	}
	return p, nil
}

// Lookup asks the plugins whose matchImages match image's repository
// (host/path, without tag or digest), in the config's order, and returns
// the first credentials found for it. The plugin is sent the whole image.
func (p *Plugins) Lookup(ctx context.Context, image string) (user, secret string, found bool, err error) {
	repo := imageRepo(image)
	var errs []error
	for _, pr := range p.providers {
		if !matchesAny(pr.MatchImages, repo) {
			continue
		}
		auth, err := p.auth(ctx, pr, image)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if a, ok := bestAuth(auth, repo); ok {
			return a.Username, a.Password, true, nil
		}
	}
	return "", "", false, errors.Join(errs...)
}

func matchesAny(globs []string, image string) bool {
	for _, g := range globs {
		if matchImage(g, image) {
			return true
		}
	}
	return false
}

// bestAuth is the answer's entry whose key matches image most closely
// (the longest key), as the kubelet's keyring picks it.
func bestAuth(auth map[string]credv1.AuthConfig, image string) (credv1.AuthConfig, bool) {
	best, found := "", false
	for k := range auth {
		if matchImage(k, image) && (!found || len(k) > len(best)) {
			best, found = k, true
		}
	}
	return auth[best], found
}

// auth is the plugin's answer for image, from the cache while it holds.
func (p *Plugins) auth(ctx context.Context, pr provider, image string) (map[string]credv1.AuthConfig, error) {
	now := p.now()
	p.mu.Lock()
	for _, key := range cacheKeys(pr.Name, image) {
		if c, ok := p.cache[key]; ok {
			if now.Before(c.expires) {
				p.mu.Unlock()
				return c.auth, nil
			}
			delete(p.cache, key)
		}
	}
	p.mu.Unlock()
	resp, err := runPlugin(ctx, pr, image)
	if err != nil {
		return nil, err
	}
	d := pr.DefaultCacheDuration.Duration
	if resp.CacheDuration != nil {
		d = resp.CacheDuration.Duration
	}
	if d > 0 {
		key := cacheKey(pr.Name, resp.CacheKeyType, image)
		p.mu.Lock()
		p.cache[key] = cached{auth: resp.Auth, expires: now.Add(d)}
		p.mu.Unlock()
	}
	return resp.Auth, nil
}

// cacheKeys are the keys an answer for image may be cached under, most
// specific first.
func cacheKeys(name, image string) []string {
	return []string{
		cacheKey(name, credv1.ImagePluginCacheKeyType, image),
		cacheKey(name, credv1.RegistryPluginCacheKeyType, image),
		cacheKey(name, credv1.GlobalPluginCacheKeyType, image),
	}
}

func cacheKey(name string, typ credv1.PluginCacheKeyType, image string) string {
	switch typ {
	case credv1.ImagePluginCacheKeyType:
		return name + "\x00image\x00" + image
	case credv1.RegistryPluginCacheKeyType:
		host, _, _ := strings.Cut(image, "/")
		return name + "\x00registry\x00" + host
	}
	return name + "\x00global"
}

// runPlugin runs one plugin as the kubelet does: the request on stdin,
// the response on stdout, the daemon's environment with the provider's
// env over it.
func runPlugin(ctx context.Context, pr provider, image string) (*credv1.CredentialProviderResponse, error) {
	req, err := json.Marshal(credv1.CredentialProviderRequest{
		TypeMeta: metav1.TypeMeta{Kind: "CredentialProviderRequest", APIVersion: pluginAPIVersion},
		Image:    image,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, pluginTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, pr.bin, pr.Args...)
	cmd.Env = os.Environ()
	for _, e := range pr.Env {
		cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
	}
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("credential provider plugin %s for %s: %w: %s", pr.Name, image, err, firstLine(stderr.String()))
	}
	var resp credv1.CredentialProviderResponse
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		// Never the output itself: it may hold a password.
		return nil, fmt.Errorf("credential provider plugin %s for %s: the response is not JSON: %v", pr.Name, image, err)
	}
	if resp.Kind != "CredentialProviderResponse" || resp.APIVersion != pluginAPIVersion {
		return nil, fmt.Errorf("credential provider plugin %s for %s: response apiVersion %q kind %q, want %s CredentialProviderResponse", pr.Name, image, resp.APIVersion, resp.Kind, pluginAPIVersion)
	}
	switch resp.CacheKeyType {
	case credv1.ImagePluginCacheKeyType, credv1.RegistryPluginCacheKeyType, credv1.GlobalPluginCacheKeyType:
	default:
		return nil, fmt.Errorf("credential provider plugin %s for %s: cacheKeyType %q, want Image, Registry or Global", pr.Name, image, resp.CacheKeyType)
	}
	return &resp, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
