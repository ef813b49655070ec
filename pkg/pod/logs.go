package pod

import (
	"fmt"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// ContainerLog tells where a container's log is (server.LogLocator): the
// current instance's file, or with previous the file of the instance the
// status shows as last terminated (during a crash-loop back-off, the latest
// attempt, as the kubelet).
func (m *Manager) ContainerLog(namespace, pod, container string, previous bool) (string, bool, error) {
	m.mu.Lock()
	w := m.active[namespace+"/"+pod]
	m.mu.Unlock()
	if w == nil {
		return "", false, fmt.Errorf("pods %q not found", pod)
	}
	p := w.snapshot()
	for _, list := range [][]statusRef{refs(p.Status.InitContainerStatuses), refs(p.Status.ContainerStatuses), refs(p.Status.EphemeralContainerStatuses)} {
		for _, cs := range list {
			if cs.name != container {
				continue
			}
			id, running := cs.currentID, cs.running
			if previous {
				id, running = cs.lastID, false
				if id == "" {
					return "", false, fmt.Errorf("previous terminated container %q in pod %q not found", container, pod)
				}
			}
			if id == "" {
				return "", false, fmt.Errorf("container %q in pod %q is waiting to start: %s", container, pod, cs.waiting)
			}
			attempt, err := attemptOf(id)
			if err != nil {
				return "", false, err
			}
			return w.paths.ContainerLog(container, attempt), running, nil
		}
	}
	return "", false, fmt.Errorf("container %s is not valid for pod %s", container, pod)
}

// attemptOf reads the restart count from a status containerID,
// "containerd://<pod-id>-<name>-<attempt>".
func attemptOf(containerID string) (int, error) {
	i := strings.LastIndexByte(containerID, '-')
	n, err := strconv.Atoi(containerID[i+1:])
	if i < 0 || err != nil {
		return 0, fmt.Errorf("unexpected container ID %q", containerID)
	}
	return n, nil
}

// statusRef is the part of a container status ContainerLog needs.
type statusRef struct {
	name              string
	currentID, lastID string
	running           bool
	waiting           string
}

func refs(list []v1.ContainerStatus) []statusRef {
	out := make([]statusRef, 0, len(list))
	for _, cs := range list {
		r := statusRef{name: cs.Name, running: cs.State.Running != nil}
		switch {
		case cs.State.Running != nil || cs.State.Terminated != nil:
			r.currentID = cs.ContainerID
		case cs.State.Waiting != nil:
			r.waiting = cs.State.Waiting.Reason
			if cs.LastTerminationState.Terminated != nil {
				// Waiting to be restarted: the latest attempt is the one
				// that terminated.
				r.currentID = cs.LastTerminationState.Terminated.ContainerID
			}
		}
		if t := cs.LastTerminationState.Terminated; t != nil {
			r.lastID = t.ContainerID
		}
		out = append(out, r)
	}
	return out
}
