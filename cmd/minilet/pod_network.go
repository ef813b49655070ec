package main

import (
	"context"
	"net"

	"github.com/minilet/minilet/pkg/network"
	"github.com/minilet/minilet/pkg/pod"
)

// podNetwork gives the pod logic the CNI network manager (pod.Network):
// pkg/pod knows only its own interface and types, not pkg/network.
type podNetwork struct{ *network.Manager }

func (n podNetwork) Attach(ctx context.Context, netnsPath string, a pod.Attachment) ([]net.IP, error) {
	return n.Manager.Attach(ctx, netnsPath, toNetwork(a))
}

func (n podNetwork) Detach(ctx context.Context, netnsPath string, a pod.Attachment) error {
	return n.Manager.Detach(ctx, netnsPath, toNetwork(a))
}

func toNetwork(a pod.Attachment) network.Attachment {
	out := network.Attachment{PodID: a.PodID, Namespace: a.Namespace, Name: a.Name, UID: a.UID}
	for _, p := range a.Ports {
		out.Ports = append(out.Ports, network.PortMapping(p))
	}
	return out
}
