package kubeletapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	remotecommandconsts "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/kubelet/pkg/cri/streaming/portforward"
)

// handlePortForward forwards connections to ports of a pod (kubectl
// port-forward through the API server), over SPDY or WebSocket as the
// kubelet's stream code serves it.
func (s *Server) handlePortForward(w http.ResponseWriter, r *http.Request) {
	if s.d.Ports == nil {
		orNotImplemented(nil).ServeHTTP(w, r)
		return
	}
	pod, ok := s.requestPod(w, r)
	if !ok {
		return
	}
	opts, err := portforward.NewV4Options(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	streamWithoutDeadlines(w)
	portforward.ServePortForward(w, r, forwarder{d: s.d.Ports, pod: &pod}, pod.Name, pod.UID, opts,
		s.cfg.StreamIdleTimeout, remotecommandconsts.DefaultStreamCreationTimeout, portforward.SupportedProtocols)
}

// forwarder copies between a client's stream and a connection to the
// pod's port (portforward.PortForwarder).
type forwarder struct {
	d   PortDialer
	pod *v1.Pod
}

func (f forwarder) PortForward(ctx context.Context, _ string, _ types.UID, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	conn, err := f.d.DialPod(ctx, f.pod, port)
	if err != nil {
		return fmt.Errorf("port %d of pod %s/%s: %w", port, f.pod.Namespace, f.pod.Name, err)
	}
	defer conn.Close()
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = io.Copy(conn, stream)
		// The client is done writing: the pod's side reads EOF.
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	})
	_, err = io.Copy(stream, conn)
	_ = stream.Close()
	wg.Wait()
	return err
}
