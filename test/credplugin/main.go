// Command credplugin is a kubelet credential provider plugin for the
// integration tests: it answers the CredentialProviderRequest on stdin with
// the username and password in $CREDPLUGIN_USER and $CREDPLUGIN_PASSWORD
// for the images matched by the config, and appends each request's image
// and arguments to $CREDPLUGIN_LOG.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	credv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

func main() {
	var req credv1.CredentialProviderRequest
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "credplugin: read the request:", err)
		os.Exit(1)
	}
	if req.APIVersion != "credentialprovider.kubelet.k8s.io/v1" || req.Kind != "CredentialProviderRequest" || req.Image == "" {
		fmt.Fprintf(os.Stderr, "credplugin: unexpected request %+v\n", req)
		os.Exit(1)
	}
	if log := os.Getenv("CREDPLUGIN_LOG"); log != "" {
		f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintf(f, "%s %s\n", req.Image, strings.Join(os.Args[1:], " "))
			f.Close()
		}
	}
	registry, _, _ := strings.Cut(req.Image, "/")
	resp := credv1.CredentialProviderResponse{
		TypeMeta:     metav1.TypeMeta{Kind: "CredentialProviderResponse", APIVersion: "credentialprovider.kubelet.k8s.io/v1"},
		CacheKeyType: credv1.RegistryPluginCacheKeyType,
		Auth: map[string]credv1.AuthConfig{
			registry: {Username: os.Getenv("CREDPLUGIN_USER"), Password: os.Getenv("CREDPLUGIN_PASSWORD")},
		},
	}
	if err := json.NewEncoder(os.Stdout).Encode(resp); err != nil {
		os.Exit(1)
	}
}
