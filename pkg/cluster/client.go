package cluster

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Client rate limits, the kubelet's defaults (kubeAPIQPS, kubeAPIBurst).
const (
	clientQPS   = 50
	clientBurst = 100
)

// NewClient returns a clientset for the kubeconfig at path, with the
// kubelet's rate limits and userAgent.
func NewClient(path, userAgent string) (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
	}
	rc.QPS, rc.Burst = clientQPS, clientBurst
	rc.UserAgent = userAgent
	c, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
	}
	return c, nil
}
