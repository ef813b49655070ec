package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/runtime"
)

// Executor runs a command in a container with the caller's streams (the
// container runtime).
type Executor interface {
	ExecStream(ctx context.Context, id string, cmd []string, s runtime.ExecStreams) (int32, error)
}

// StdinAttacher passes an attach client's input to the terminal of a
// container made with stdin (the runtime); an Executor that is one serves
// attach -i.
type StdinAttacher interface {
	AttachStdin(ctx context.Context, id string, s runtime.AttachStreams) error
}

// execRequest is a parsed exec or attach query, as the API server's
// PodExecOptions and PodAttachOptions.
type execRequest struct {
	container                  string
	command                    []string
	stdin, stdout, stderr, tty bool
}

// parseExecQuery reads the query of an exec (command required) or an
// attach (no command).
func parseExecQuery(q url.Values, exec bool) (execRequest, error) {
	req := execRequest{container: q.Get("container"), command: q["command"]}
	for name, dst := range map[string]*bool{"stdin": &req.stdin, "stdout": &req.stdout, "stderr": &req.stderr, "tty": &req.tty} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return req, fmt.Errorf("%s: Invalid value: %q: must be true or false", name, v)
			}
			*dst = b
		}
	}
	if exec && len(req.command) == 0 {
		return req, fmt.Errorf("command: Required value: you must specify at least 1 command")
	}
	if !exec && len(req.command) > 0 {
		return req, fmt.Errorf("command: Forbidden: attach runs no command")
	}
	if !req.stdin && !req.stdout && !req.stderr {
		return req, fmt.Errorf("you must specify at least 1 of stdin, stdout, stderr")
	}
	if req.tty && req.stderr {
		// The terminal merges stderr into stdout, as the kubelet bypasses
		// stderr for a tty.
		req.stderr = false
	}
	return req, nil
}

// handlePodExec runs a command in a container of the pod over a WebSocket
// (v5.channel.k8s.io, as the API server serves it, or v4).
func (s *Server) handlePodExec(w http.ResponseWriter, r *http.Request) {
	if s.exec == nil {
		writeStatus(w, unavailable(fmt.Errorf("this daemon does not run commands in containers")))
		return
	}
	req, id, ok := s.streamTarget(w, r, true)
	if !ok {
		return
	}
	sess, ok := openSession(w, r, req, s.log)
	if !ok {
		return
	}
	defer sess.close()
	code, err := s.exec.ExecStream(sess.ctx, id, req.command, sess.streams(req))
	sess.finish(code, err)
}

// streamTarget checks the request, the pod and the container, and answers
// the error itself: the WebSocket is opened only once the command can run.
func (s *Server) streamTarget(w http.ResponseWriter, r *http.Request, exec bool) (execRequest, string, bool) {
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	pod, ok := s.findPod(ns, name)
	if !ok {
		writeStatus(w, podNotFound(name))
		return execRequest{}, "", false
	}
	req, err := parseExecQuery(r.URL.Query(), exec)
	if err != nil {
		writeStatus(w, badRequest(err.Error()))
		return req, "", false
	}
	if pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed {
		writeStatus(w, badRequest(fmt.Sprintf("cannot exec into or attach to a container in a completed pod; current phase is %s", pod.Status.Phase)))
		return req, "", false
	}
	if req.container, err = logContainer(&pod, req.container); err != nil {
		writeStatus(w, badRequest(err.Error()))
		return req, "", false
	}
	id, err := runningContainer(&pod, req.container)
	if err != nil {
		writeStatus(w, badRequest(err.Error()))
		return req, "", false
	}
	return req, id, true
}

// runningContainer returns the runtime ID of the running instance of the
// pod's container.
func runningContainer(pod *v1.Pod, container string) (string, error) {
	for _, list := range [][]v1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses, pod.Status.EphemeralContainerStatuses} {
		for _, cs := range list {
			if cs.Name != container {
				continue
			}
			if cs.State.Running == nil || cs.ContainerID == "" {
				return "", fmt.Errorf("container %q in pod %q is not running%s", container, pod.Name, stateWords(cs.State))
			}
			_, id, ok := cutScheme(cs.ContainerID)
			if !ok {
				return "", fmt.Errorf("container %q in pod %q: unexpected container ID %q", container, pod.Name, cs.ContainerID)
			}
			return id, nil
		}
	}
	return "", fmt.Errorf("container %q in pod %q is not running: it has no status yet", container, pod.Name)
}

func stateWords(st v1.ContainerState) string {
	switch {
	case st.Waiting != nil && st.Waiting.Reason != "":
		return " (waiting: " + st.Waiting.Reason + ")"
	case st.Terminated != nil:
		return fmt.Sprintf(" (terminated: %s, exit code %d)", st.Terminated.Reason, st.Terminated.ExitCode)
	}
	return ""
}

// cutScheme splits "containerd://<id>".
func cutScheme(containerID string) (scheme, id string, ok bool) {
	scheme, id, ok = strings.Cut(containerID, "://")
	return scheme, id, ok && id != ""
}

// RunningContainerID returns the runtime ID of the running container of
// the pod named container (the pod's only container when empty), or why
// there is none, in the kubelet's words: for other servers of exec (the
// kubelet API of cluster mode).
func RunningContainerID(pod *v1.Pod, container string) (string, error) {
	name, err := logContainer(pod, container)
	if err != nil {
		return "", err
	}
	return runningContainer(pod, name)
}
