package probe

import (
	"fmt"
	"strconv"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// resolvePort returns the port number param names: a number, or the name
// of one of the container's ports (the kubelet's ResolveContainerPort,
// which also takes a number written as a string).
func resolvePort(param intstr.IntOrString, c *v1.Container) (int, error) {
	port := -1
	switch param.Type {
	case intstr.Int:
		port = param.IntValue()
	case intstr.String:
		var err error
		if port, err = portByName(c, param.StrVal); err != nil {
			if port, err = strconv.Atoi(param.StrVal); err != nil {
				return -1, fmt.Errorf("port %q is neither a port name of the container nor a number", param.StrVal)
			}
		}
	default:
		return -1, fmt.Errorf("port %+v has no kind", param)
	}
	if port > 0 && port < 65536 {
		return port, nil
	}
	return port, fmt.Errorf("invalid port number: %d", port)
}

func portByName(c *v1.Container, name string) (int, error) {
	if c != nil {
		for _, p := range c.Ports {
			if p.Name == name {
				return int(p.ContainerPort), nil
			}
		}
	}
	return 0, fmt.Errorf("port %s not found", name)
}
