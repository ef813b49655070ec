package kubeletapi

import (
	"context"
	"io"
	"net/http"

	"k8s.io/apimachinery/pkg/types"
	remotecommandconsts "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/client-go/tools/remotecommand"
	kubeletrc "k8s.io/kubelet/pkg/cri/streaming/remotecommand"

	"github.com/minilet/minilet/pkg/server"
)

// handleAttach attaches to a running container (kubectl attach through
// the API server), over SPDY or WebSocket as the kubelet's stream code
// serves it.
func (s *Server) handleAttach(w http.ResponseWriter, r *http.Request) {
	if s.d.Attach == nil {
		orNotImplemented(nil).ServeHTTP(w, r)
		return
	}
	pod, ok := s.requestPod(w, r)
	if !ok {
		return
	}
	container := r.PathValue("container")
	if _, err := server.RunningContainerID(&pod, container); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	opts, err := kubeletrc.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	streamWithoutDeadlines(w)
	kubeletrc.ServeAttach(w, r, attacher{a: s.d.Attach, namespace: pod.Namespace}, pod.Name, pod.UID, container, opts,
		s.cfg.StreamIdleTimeout, remotecommandconsts.DefaultStreamCreationTimeout, remotecommandconsts.SupportedStreamingProtocols)
}

// attacher adapts an Attacher to the kubelet's stream code
// (remotecommand.Attacher).
type attacher struct {
	a         Attacher
	namespace string
}

func (a attacher) AttachContainer(ctx context.Context, name string, _ types.UID, container string, in io.Reader, out, errOut io.WriteCloser, _ bool, resize <-chan remotecommand.TerminalSize) error {
	var sio server.AttachIO
	// Typed nils must stay nil: a stream not asked for is not read.
	if in != nil {
		sio.Stdin = in
	}
	if out != nil {
		sio.Stdout = out
	}
	if errOut != nil {
		sio.Stderr = errOut
	}
	sio.Resize = terminalSizes(ctx, resize)
	return a.a.AttachContainer(ctx, a.namespace, name, container, sio)
}
