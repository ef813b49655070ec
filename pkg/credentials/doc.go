// Package credentials finds the registry credentials for an image pull, as
// the kubelet and docker do: the kubelet's credential provider plugins
// (CredentialProviderConfig, kubelet.config.k8s.io/v1; plugins speak
// credentialprovider.kubelet.k8s.io/v1 on stdin and stdout, so that
// ecr-credential-provider runs unchanged), then a docker config.json
// (credHelpers, credsStore through docker-credential-<name>, auths).
// Credentials are never logged, nor put in errors.
package credentials
