package kubeletapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	remotecommandconsts "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/kubelet/pkg/cri/streaming/remotecommand"

	"github.com/minilet/minilet/pkg/metrics"
	"github.com/minilet/minilet/pkg/server"
)

// PodSource lists the node's pods with their status (the pod manager).
type PodSource interface {
	Pods() []v1.Pod
}

// Attacher attaches to a running container (the local API server:
// output from the container's log, input to its stdin).
type Attacher interface {
	AttachContainer(ctx context.Context, namespace, pod, container string, io server.AttachIO) error
}

// PortDialer connects to a port on a pod's loopback, inside its network
// namespace.
type PortDialer interface {
	DialPod(ctx context.Context, pod *v1.Pod, port int32) (net.Conn, error)
}

// Deps are what the API serves. Auth, Pods and Log are required; a nil
// one of the others answers its requests 501 Not Implemented.
type Deps struct {
	Auth    *Auth
	Pods    PodSource
	Exec    server.Executor // the runtime
	Attach  Attacher
	Ports   PortDialer
	Local   http.Handler // the local API (pod logs)
	Metrics http.Handler
	// ResourceMetrics serves /metrics/resource (pkg/resourcemetrics).
	ResourceMetrics http.Handler
	// Stats serves /stats/summary (pkg/statssummary).
	Stats http.Handler
	Log   *zap.Logger
}

// Config is where and how the API is served.
type Config struct {
	// Addr is host:port to listen on (--address, --port).
	Addr string
	// CertFile and KeyFile are the serving certificate and key
	// (--tls-cert-file, --tls-private-key-file); empty: a self-signed
	// one for NodeName and NodeIPs, made at start.
	CertFile, KeyFile string
	// Certificate, when set, gives the serving certificate instead
	// (--rotate-server-certificates: from the CSR API, renewed).
	Certificate interface{ Current() *tls.Certificate }
	NodeName    string
	NodeIPs     []net.IP
	// ClientCAFile verifies client certificates (--client-ca-file); empty:
	// bearer tokens only.
	ClientCAFile string
	// StreamIdleTimeout ends an exec session idle this long (the kubelet's
	// streamingConnectionIdleTimeout, 4h).
	StreamIdleTimeout time.Duration
}

// Server is the kubelet API of one node.
type Server struct {
	cfg  Config
	d    Deps
	auth *Auth
	pods PodSource
	log  *zap.Logger
	mux  *http.ServeMux
}

// New returns the kubelet API over d.
func New(cfg Config, d Deps) *Server {
	if cfg.StreamIdleTimeout <= 0 {
		cfg.StreamIdleTimeout = 4 * time.Hour
	}
	s := &Server{cfg: cfg, d: d, auth: d.Auth, pods: d.Pods, log: d.Log, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	s.mux.HandleFunc("GET /pods", s.handlePods)
	s.mux.Handle("GET /metrics", orNotImplemented(d.Metrics))
	s.mux.Handle("GET /metrics/resource", orNotImplemented(d.ResourceMetrics))
	s.mux.Handle("GET /stats/summary", orNotImplemented(d.Stats))
	s.mux.HandleFunc("GET /runningpods/", s.handleRunningPods)
	// Go's profiles, as the kubelet's debugging handlers (nodes/proxy).
	metrics.HandlePprof(s.mux)
	s.mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", s.handleLogs)
	s.mux.HandleFunc("/exec/{namespace}/{pod}/{container}", s.handleExec)
	s.mux.HandleFunc("/exec/{namespace}/{pod}/{uid}/{container}", s.handleExec)
	s.mux.HandleFunc("/attach/{namespace}/{pod}/{container}", s.handleAttach)
	s.mux.HandleFunc("/attach/{namespace}/{pod}/{uid}/{container}", s.handleAttach)
	s.mux.HandleFunc("/portForward/{namespace}/{pod}", s.handlePortForward)
	s.mux.HandleFunc("/portForward/{namespace}/{pod}/{uid}", s.handlePortForward)
	return s
}

func orNotImplemented(h http.Handler) http.Handler {
	if h == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "not served by this node", http.StatusNotImplemented)
		})
	}
	return h
}

// Handler is the API with authentication and authorization in front.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.auth.authenticate(r)
		if err != nil {
			if !errors.Is(err, errUnauthenticated) {
				s.log.Warn("cannot authenticate a client of the kubelet API", zap.Error(err))
			}
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		ok, reason, err := s.auth.authorize(r.Context(), u, requestAttributes(r))
		if err != nil {
			s.log.Warn("cannot authorize a client of the kubelet API", zap.String("user", u.Name), zap.Error(err))
			http.Error(w, "Authorization error ("+reason+")", http.StatusInternalServerError)
			return
		}
		if !ok {
			http.Error(w, "Forbidden ("+reason+")", http.StatusForbidden)
			return
		}
		s.mux.ServeHTTP(w, r)
	})
}

// Run serves the API until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	tlsCfg, err := s.tlsConfig()
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("kubelet API: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), TLSConfig: tlsCfg, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: zap.NewStdLog(s.log.WithOptions(zap.IncreaseLevel(zap.WarnLevel)))}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	s.log.Info("serving the kubelet API", zap.String("address", l.Addr().String()))
	err = srv.ServeTLS(l, "", "")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *Server) tlsConfig() (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	if s.cfg.Certificate != nil {
		c := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if cert := s.cfg.Certificate.Current(); cert != nil {
				return cert, nil
			}
			return nil, errors.New("no serving certificate yet: its CertificateSigningRequest waits for approval (kubectl get csr; kubectl certificate approve)")
		}}
		return s.withClientCA(c)
	}
	if s.cfg.CertFile == "" {
		if cert, err = selfSigned(s.cfg.NodeName, s.cfg.NodeIPs); err != nil {
			return nil, fmt.Errorf("self-signed serving certificate: %w", err)
		}
		s.log.Info("the kubelet API serves a self-signed certificate: an API server verifying kubelets' certificates refuses it; give --tls-cert-file and --tls-private-key-file")
	} else if cert, err = tls.LoadX509KeyPair(s.cfg.CertFile, s.cfg.KeyFile); err != nil {
		return nil, fmt.Errorf("--tls-cert-file/--tls-private-key-file: %w", err)
	}
	return s.withClientCA(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
}

// withClientCA makes c verify client certificates with --client-ca-file.
func (s *Server) withClientCA(c *tls.Config) (*tls.Config, error) {
	if s.cfg.ClientCAFile != "" {
		pem, err := os.ReadFile(s.cfg.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("--client-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--client-ca-file %s: no certificate in it", s.cfg.ClientCAFile)
		}
		c.ClientCAs, c.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return c, nil
}

func (s *Server) handlePods(w http.ResponseWriter, _ *http.Request) {
	l := v1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, Items: s.pods.Pods()}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(l)
}

// handleLogs is the API server's pod log request (kubectl logs): the
// local API's log endpoint, with the same query (follow, previous,
// tailLines, sinceSeconds, sinceTime, timestamps, limitBytes).
func (s *Server) handleLogs(w http.ResponseWriter, r *http.Request) {
	r2 := r.Clone(r.Context())
	q := r2.URL.Query()
	q.Set("container", r.PathValue("container"))
	r2.URL.Path = "/api/v1/namespaces/" + r.PathValue("namespace") + "/pods/" + r.PathValue("pod") + "/log"
	r2.URL.RawPath = ""
	r2.URL.RawQuery = q.Encode()
	orNotImplemented(s.d.Local).ServeHTTP(w, r2)
}

// handleExec runs a command in a container (kubectl exec through the API
// server), over SPDY or WebSocket as the kubelet's stream code serves it.
func (s *Server) handleExec(w http.ResponseWriter, r *http.Request) {
	if s.d.Exec == nil {
		orNotImplemented(nil).ServeHTTP(w, r)
		return
	}
	pod, ok := s.requestPod(w, r)
	if !ok {
		return
	}
	ns, name, container := pod.Namespace, pod.Name, r.PathValue("container")
	id, err := server.RunningContainerID(&pod, container)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	streamWithoutDeadlines(w)
	remotecommand.ServeExec(w, r, executor{rt: s.d.Exec}, ns+"/"+name, pod.UID, id, r.URL.Query()["command"], opts,
		s.cfg.StreamIdleTimeout, remotecommandconsts.DefaultStreamCreationTimeout, remotecommandconsts.SupportedStreamingProtocols)
}

// streamWithoutDeadlines lifts the server's read and write deadlines off
// w's connection: they would end a stream session.
func streamWithoutDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
}

// requestPod is the pod the request's path names (namespace, pod and,
// when given, uid); it answers 404 when there is none.
func (s *Server) requestPod(w http.ResponseWriter, r *http.Request) (v1.Pod, bool) {
	ns, name := r.PathValue("namespace"), r.PathValue("pod")
	pod, ok := s.findPod(ns, name)
	if !ok {
		http.Error(w, fmt.Sprintf("pod %s/%s not found", ns, name), http.StatusNotFound)
		return v1.Pod{}, false
	}
	if uid := r.PathValue("uid"); uid != "" && uid != string(pod.UID) {
		http.Error(w, fmt.Sprintf("pod %s/%s has another UID", ns, name), http.StatusNotFound)
		return v1.Pod{}, false
	}
	return pod, true
}

func (s *Server) findPod(ns, name string) (v1.Pod, bool) {
	var found *v1.Pod
	for _, p := range s.pods.Pods() {
		if p.Namespace == ns && p.Name == name {
			if found == nil || p.DeletionTimestamp == nil {
				found = &p
			}
		}
	}
	if found == nil {
		return v1.Pod{}, false
	}
	return *found, true
}
