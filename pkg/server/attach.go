package server

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	var attacher StdinAttacher
	if req.stdin {
		pod, _ := s.findPod(ns, name)
		if c := specOf(&pod, req.container); c == nil || !c.Stdin {
			writeStatus(w, badRequest(fmt.Sprintf("container %q in pod %q was not started with stdin: true, so nothing reads its input; attach without -i streams its output", req.container, name)))
			return
		}
		var ok bool
		if attacher, ok = s.exec.(StdinAttacher); !ok {
			writeStatus(w, unavailable(errors.New("this daemon does not attach to containers' stdin")))
			return
		}
	}
	if s.logs == nil {
		writeStatus(w, unavailable(errors.New("this daemon does not serve container output")))
		return
	}
	path, _, err := s.logs.ContainerLog(ns, name, req.container, false)
	if err != nil {
		writeStatus(w, badRequest(err.Error()))
		return
	}
	done := func() bool {
		p, running, err := s.logs.ContainerLog(ns, name, req.container, false)
		return err != nil || !running || p != path
	}
	type part struct {
		stream containerlog.Stream
		on     bool
	}
	var readers []*containerlog.Reader
	for _, p := range []part{{containerlog.Stdout, req.stdout}, {containerlog.Stderr, req.stderr}} {
		if !p.on {
			readers = append(readers, nil)
			continue
		}
		rd, err := containerlog.Open(path, containerlog.Options{Tail: 0, Follow: true, Done: done, Stream: p.stream})
		if err != nil {
			for _, o := range readers {
				if o != nil {
					o.Close()
				}
			}
			writeStatus(w, internalError(fmt.Sprintf("open the output of container %q in pod %q: %v", req.container, name, err)))
			return
		}
		defer rd.Close()
		readers = append(readers, rd)
	}
	sess, ok := openSession(w, r, req, s.log)
	if !ok {
		return
	}
	defer sess.close()
	if req.stdin {
		go func() {
			err := attacher.AttachStdin(sess.ctx, id, runtime.AttachStreams{Stdin: sess.stdin, Resize: sess.sizes})
			if err != nil && sess.ctx.Err() == nil {
				s.log.Warn("attach: pass the client's input to the container", zap.String("namespace", ns), zap.String("pod", name),
					zap.String("container", req.container), zap.Error(err))
			}
		}()
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, out := range []io.Writer{sess.stdout, sess.stderr} {
		if readers[i] == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = readers[i].Copy(sess.ctx, out)
		}()
	}
	wg.Wait()
	err = errors.Join(errs...)
	if err != nil && !errors.Is(err, context.Canceled) {
		s.log.Warn("attach: stream a container's output", zap.String("namespace", ns), zap.String("pod", name),
			zap.String("container", req.container), zap.Error(err))
	}
	sess.finish(0, err)
}
