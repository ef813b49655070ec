package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/network"
	"github.com/minilet/minilet/pkg/runtime"
)

// podDialer connects to a port on a pod's loopback for the kubelet API's
// port-forward: inside the network namespace of one of the pod's running
// containers (they share the sandbox's), or on the host's loopback for a
// hostNetwork pod.
type podDialer struct {
	rt interface {
		ContainerStatus(ctx context.Context, id string) (runtime.Container, error)
	}
}

func (d podDialer) DialPod(ctx context.Context, pod *v1.Pod, port int32) (net.Conn, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port)))
	if pod.Spec.HostNetwork {
		var nd net.Dialer
		return nd.DialContext(ctx, "tcp4", addr)
	}
	for _, list := range [][]v1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses} {
		for _, cs := range list {
			_, id, ok := strings.Cut(cs.ContainerID, "://")
			if cs.State.Running == nil || !ok {
				continue
			}
			c, err := d.rt.ContainerStatus(ctx, id)
			if err != nil || c.PID == 0 {
				continue
			}
			return network.DialInNetns(ctx, fmt.Sprintf("/proc/%d/ns/net", c.PID), "tcp4", addr)
		}
	}
	return nil, fmt.Errorf("pod %s/%s has no running container", pod.Namespace, pod.Name)
}
