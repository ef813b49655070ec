package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdio "io"
	"net/http"
	"sync"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/containerlog"
	"github.com/minilet/minilet/pkg/runtime"
)

// specOf is the spec of the pod's init, app or ephemeral container name.
func specOf(pod *v1.Pod, name string) *v1.Container {
	for _, list := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	for i := range pod.Spec.EphemeralContainers {
		if ec := &pod.Spec.EphemeralContainers[i]; ec.Name == name {
			c := v1.Container(ec.EphemeralContainerCommon)
			return &c
		}
	}
	return nil
}

// handlePodAttach streams what a running container writes from now on,
// stdout and stderr apart, until it stops or the client goes; with stdin,
// what the client types goes to the container's terminal (a container
// made with stdin: true and tty: true), and its terminal follows the
// client's size.
func (s *Server) handlePodAttach(w http.ResponseWriter, r *http.Request) {
	req, id, ok := s.streamTarget(w, r, false)
	if !ok {
		return
	}
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	pod, _ := s.findPod(ns, name)
	out, err := s.openAttach(&pod, req.container, id, req.stdin, req.stdout, req.stderr)
	if err != nil {
		writeStatus(w, errorStatus(err))
		return
	}
	defer out.close()
	sess, ok := openSession(w, r, req, s.log)
	if !ok {
		return
	}
	defer sess.close()
	var stdin io.Reader
	if req.stdin {
		stdin = sess.stdin
	}
	err = out.run(sess.ctx, AttachIO{Stdin: stdin, Stdout: sess.stdout, Stderr: sess.stderr, Resize: sess.sizes})
	sess.finish(0, err)
}

// AttachIO are the streams of an attach client: nil ones are not asked
// for.
type AttachIO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Resize         <-chan runtime.TerminalSize
}

// AttachContainer attaches to the running container of the pod, as
// handlePodAttach does, for the kubelet API's /attach: its output from
// now on (from the log, so that it needs nothing of the shim) until it
// stops or ctx ends, and io.Stdin to its terminal.
func (s *Server) AttachContainer(ctx context.Context, namespace, name, container string, io AttachIO) error {
	pod, ok := s.findPod(namespace, name)
	if !ok {
		return fmt.Errorf("pod %s/%s not found", namespace, name)
	}
	id, err := RunningContainerID(&pod, container)
	if err != nil {
		return err
	}
	out, err := s.openAttach(&pod, container, id, io.Stdin != nil, io.Stdout != nil, io.Stderr != nil)
	if err != nil {
		return err
	}
	defer out.close()
	return out.run(ctx, io)
}

// attachment is an attach to one container, its output readers open.
type attachment struct {
	s         *Server
	ns, name  string
	container string
	id        string
	attacher  StdinAttacher // nil: no stdin
	readers   [2]*containerlog.Reader
}

// openAttach checks that the attach can be served and opens the readers
// of the container's output; the error is a Status for the client.
func (s *Server) openAttach(pod *v1.Pod, container, id string, stdin, stdout, stderr bool) (*attachment, error) {
	a := &attachment{s: s, ns: pod.Namespace, name: pod.Name, container: container, id: id}
	if stdin {
		if c := specOf(pod, container); c == nil || !c.Stdin {
			return nil, asError(badRequest(fmt.Sprintf("container %q in pod %q was not started with stdin: true, so nothing reads its input; attach without -i streams its output", container, pod.Name)))
		}
		var ok bool
		if a.attacher, ok = s.exec.(StdinAttacher); !ok {
			return nil, asError(unavailable(errors.New("this daemon does not attach to containers' stdin")))
		}
	}
	if s.logs == nil {
		return nil, asError(unavailable(errors.New("this daemon does not serve container output")))
	}
	path, _, err := s.logs.ContainerLog(pod.Namespace, pod.Name, container, false)
	if err != nil {
		return nil, asError(badRequest(err.Error()))
	}
	done := func() bool {
		p, running, err := s.logs.ContainerLog(pod.Namespace, pod.Name, container, false)
		return err != nil || !running || p != path
	}
	for i, p := range []struct {
		stream containerlog.Stream
		on     bool
	}{{containerlog.Stdout, stdout}, {containerlog.Stderr, stderr}} {
		if !p.on {
			continue
		}
		rd, err := containerlog.Open(path, containerlog.Options{Tail: 0, Follow: true, Done: done, Stream: p.stream})
		if err != nil {
			a.close()
			return nil, asError(internalError(fmt.Sprintf("open the output of container %q in pod %q: %v", container, pod.Name, err)))
		}
		a.readers[i] = rd
	}
	return a, nil
}

func (a *attachment) close() {
	for _, r := range a.readers {
		if r != nil {
			r.Close()
		}
	}
}

// run copies the output to io until the container stops or ctx ends, and
// io.Stdin to the container's terminal.
func (a *attachment) run(ctx context.Context, io AttachIO) error {
	log := a.s.log.With(zap.String("namespace", a.ns), zap.String("pod", a.name), zap.String("container", a.container))
	if a.attacher != nil && io.Stdin != nil {
		go func() {
			err := a.attacher.AttachStdin(ctx, a.id, runtime.AttachStreams{Stdin: io.Stdin, Resize: io.Resize})
			if err != nil && ctx.Err() == nil {
				log.Warn("attach: pass the client's input to the container", zap.Error(err))
			}
		}()
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, out := range []stdio.Writer{io.Stdout, io.Stderr} {
		if a.readers[i] == nil || out == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = a.readers[i].Copy(ctx, out)
		}()
	}
	wg.Wait()
	err := errors.Join(errs...)
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Warn("attach: stream a container's output", zap.Error(err))
	}
	return err
}
