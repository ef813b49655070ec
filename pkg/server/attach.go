package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"go.uber.org/zap"

	"github.com/minilet/minilet/pkg/containerlog"
)

// handlePodAttach streams what a running container writes from now on,
// stdout and stderr apart, until it stops or the client goes. Containers
// are never given stdin (manifest validation refuses stdin: true), so an
// attach with stdin is refused rather than left without input.
func (s *Server) handlePodAttach(w http.ResponseWriter, r *http.Request) {
	req, _, ok := s.streamTarget(w, r, false)
	if !ok {
		return
	}
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	if req.stdin {
		writeStatus(w, badRequest(fmt.Sprintf("container %q in pod %q has no stdin to attach to: minilet does not run containers with stdin: true; attach without -i streams its output", req.container, name)))
		return
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
