package pod

import (
	"context"
	"net"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/network"
	"github.com/minilet/minilet/pkg/podsandbox"
)

// Network makes and removes pod network namespaces (pkg/network).
type Network interface {
	CreateNetns(podID string) (string, error)
	Attach(ctx context.Context, netnsPath string, a network.Attachment) ([]net.IP, error)
	Detach(ctx context.Context, netnsPath string, a network.Attachment) error
	RemoveNetns(podID string) error
	ListNetns() ([]string, error)
}

// Host makes and removes a pod's host-side resources (pkg/podhost).
type Host interface {
	Prepare(pod *v1.Pod, p podsandbox.Paths) error
	WriteFiles(pod *v1.Pod, p podsandbox.Paths, podIPs []string) error
	Teardown(p podsandbox.Paths) error
	RemoveLogs(p podsandbox.Paths) error
	RemoveOldContainerLogs(p podsandbox.Paths, container string, keepFrom int) error
	LinkContainerLog(pod *v1.Pod, container, containerID, logPath string) error
	RemoveCgroup(parent string) error
}
