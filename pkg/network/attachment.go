package network

import (
	"fmt"
	"strings"

	gocni "github.com/containerd/go-cni"
)

// PortMapping asks for HostPort on the host to be forwarded to ContainerPort
// in the pod.
type PortMapping struct {
	HostPort      int32
	ContainerPort int32
	// Protocol is tcp, udp or sctp; empty means tcp.
	Protocol string
	// HostIP restricts the mapping to one host address; empty means all.
	HostIP string
}

// Attachment names the pod a network operation is for. Detach must be given
// the same PodID and Ports as Attach.
type Attachment struct {
	// PodID is the CNI container ID and the netns file name.
	PodID string
	// Namespace, Name and UID are passed to the plugins as K8S_POD_* args.
	Namespace, Name, UID string
	// Ports are the pod's host port mappings (portmap plugin).
	Ports []PortMapping
}

// namespaceOpts turns an Attachment into go-cni's per-call options: the
// K8S_POD_* CNI_ARGS containerd passes (with IgnoreUnknown, so plugins that
// do not know them accept them) and the portMappings capability.
func (a Attachment) namespaceOpts() ([]gocni.NamespaceOpts, error) {
	if err := validPodID(a.PodID); err != nil {
		return nil, err
	}
	labels := map[string]string{
		"IgnoreUnknown":              "1",
		"K8S_POD_INFRA_CONTAINER_ID": a.PodID,
	}
	for k, v := range map[string]string{"K8S_POD_NAMESPACE": a.Namespace, "K8S_POD_NAME": a.Name, "K8S_POD_UID": a.UID} {
		if v == "" {
			continue
		}
		if strings.ContainsAny(v, ";=") {
			return nil, fmt.Errorf("pod %s: %s %q holds ';' or '='", a.PodID, k, v)
		}
		labels[k] = v
	}
	ports, err := cniPorts(a.Ports)
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", a.PodID, err)
	}
	return []gocni.NamespaceOpts{gocni.WithLabels(labels), gocni.WithCapabilityPortMap(ports)}, nil
}

// cniPorts checks port mappings and converts them for the portmap plugin.
// Mappings without a host port are dropped: they publish nothing.
func cniPorts(ports []PortMapping) ([]gocni.PortMapping, error) {
	out := make([]gocni.PortMapping, 0, len(ports))
	for _, p := range ports {
		if p.HostPort <= 0 {
			continue
		}
		proto := strings.ToLower(p.Protocol)
		switch proto {
		case "":
			proto = "tcp"
		case "tcp", "udp", "sctp":
		default:
			return nil, fmt.Errorf("port mapping %d->%d: unknown protocol %q", p.HostPort, p.ContainerPort, p.Protocol)
		}
		if p.HostPort > 65535 || p.ContainerPort <= 0 || p.ContainerPort > 65535 {
			return nil, fmt.Errorf("port mapping %d->%d/%s: port out of range", p.HostPort, p.ContainerPort, proto)
		}
		out = append(out, gocni.PortMapping{HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: proto, HostIP: p.HostIP})
	}
	return out, nil
}
