package pod

import (
	"context"
	"net"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/podvolume"
)

// Network makes and removes pod network namespaces and attaches them to
// the pod network (pkg/network, through an adapter in cmd/minilet).
type Network interface {
	CreateNetns(podID string) (string, error)
	Attach(ctx context.Context, netnsPath string, a Attachment) ([]net.IP, error)
	Detach(ctx context.Context, netnsPath string, a Attachment) error
	RemoveNetns(podID string) error
	ListNetns() ([]string, error)
}

// Attachment is what the network is told of a pod. Detach must be given
// the same PodID and Ports as Attach.
type Attachment struct {
	PodID                string // the CNI container ID and the netns file name
	Namespace, Name, UID string
	Ports                []HostPort
}

// HostPort forwards HostPort on the host (HostIP: one address; "": all) to
// ContainerPort in the pod, over Protocol (tcp, udp or sctp).
type HostPort struct {
	HostPort, ContainerPort int32
	Protocol, HostIP        string
}

// EventSink takes events to where an API server's users see them
// (cluster.EventSink). It must not block.
type EventSink interface {
	Event(object v1.ObjectReference, annotations map[string]string, typ, reason, message string)
}

// Host makes and removes a pod's host-side resources (pkg/podhost).
type Host interface {
	Prepare(pod *v1.Pod, p podsandbox.Paths) error
	WriteVolume(pod *v1.Pod, p podsandbox.Paths, name string, files podvolume.Payload) (bool, error)
	LimitClaim(dir string, bytes int64) (bool, error)
	WriteFiles(pod *v1.Pod, p podsandbox.Paths, podIPs []string) error
	Teardown(p podsandbox.Paths) error
	RemoveVolumes(p podsandbox.Paths) error
	RemoveLogs(p podsandbox.Paths) error
	RemoveOldContainerLogs(p podsandbox.Paths, container string, keepFrom int) error
	LinkContainerLog(pod *v1.Pod, container, containerID, logPath string) error
	RemoveContainerLogLink(pod *v1.Pod, container, containerID string) error
	RemoveCgroup(parent string) error
}
