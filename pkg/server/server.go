package server

import (
	"net/http"
	"path"
	"runtime/debug"
	"slices"
	"strings"

	"go.uber.org/zap"
)

// Server answers the local API from a PodSource.
type Server struct {
	src        PodSource
	health     HealthChecker
	errs       ManifestErrorSource
	logs       LogLocator
	node       NodeController
	objects    ObjectSource
	volumes    VolumeStore
	workloads  WorkloadSource
	exec       Executor
	restarter  PodRestarter
	debugger   Debugger
	images     ImageManager
	nodeEvents NodeEventSource
	log        *zap.Logger
	mux        *http.ServeMux
}

// Options name what the server reads. Pods is required; a nil Health is
// always healthy, a nil ManifestErrors lists none, a nil Logs serves no
// logs (503), a nil Node serves no node (404).
type Options struct {
	Pods           PodSource
	Health         HealthChecker
	ManifestErrors ManifestErrorSource
	Logs           LogLocator
	Node           NodeController
	Objects        ObjectSource    // nil: no configmaps, secrets, claims (404)
	Volumes        VolumeStore     // nil: no volumes (404)
	Workloads      WorkloadSource  // nil: no workloads (404)
	Exec           Executor        // nil: no exec or attach (503)
	Restarter      PodRestarter    // nil: pods cannot be restarted (404)
	Debugger       Debugger        // nil: no ephemeral containers (404)
	Images         ImageManager    // nil: no image pull, rm, prune (404)
	NodeEvents     NodeEventSource // nil: the node has no events
	Log            *zap.Logger
}

// New returns a server answering from o.
func New(o Options) *Server {
	log := o.Log
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{src: o.Pods, health: o.Health, errs: o.ManifestErrors, logs: o.Logs, node: o.Node, objects: o.Objects, volumes: o.Volumes, workloads: o.Workloads, exec: o.Exec, restarter: o.Restarter, debugger: o.Debugger, images: o.Images, nodeEvents: o.NodeEvents, log: log, mux: http.NewServeMux()}
	for _, r := range s.routes() {
		method, pattern := http.MethodGet, r.pattern
		if m, p, ok := strings.Cut(r.pattern, " "); ok {
			method, pattern = m, p
		}
		s.mux.Handle(pattern, onlyMethod(method, r.handler))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { writeStatus(w, pathNotFound()) })
	return s
}

// route is one endpoint: a net/http ServeMux pattern, with its method
// first ("POST /api/v1/node/cordon") for other methods than GET, and its
// handler. The method is checked by onlyMethod, not by the ServeMux, so
// that a wrong method is a 405 Status.
type route struct {
	pattern string
	handler http.HandlerFunc
}

// routes lists the endpoints; add new ones (images, logs...) here.
func (s *Server) routes() []route {
	return append([]route{
		{"/healthz", s.handleHealthz},
		{"/api/v1/pods", s.watchable(s.handleListPods)},
		{"/api/v1/namespaces/{namespace}/pods", s.watchable(s.handleListPods)},
		{"/api/v1/namespaces/{namespace}/pods/{name}", s.watchable(s.handleGetPod)},
		{"/api/v1/namespaces/{namespace}/pods/{name}/events", s.handlePodEvents},
		{"/api/v1/namespaces/{namespace}/pods/{name}/log", s.handlePodLog},
		// GET opens a WebSocket; POST is what SPDY clients send.
		{"GET|POST /api/v1/namespaces/{namespace}/pods/{name}/exec", s.handlePodExec},
		{"GET|POST /api/v1/namespaces/{namespace}/pods/{name}/attach", s.handlePodAttach},
		{"POST /api/v1/namespaces/{namespace}/pods/{name}/restart", s.handleRestartPod},
		{"GET|PATCH /api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers", s.handleEphemeralContainers},
		{"/api/v1/manifesterrors", s.handleManifestErrors},
		{"GET|PATCH /api/v1/node", s.handleNode},
		{"POST /api/v1/node/cordon", s.handleCordon},
		{"POST /api/v1/node/uncordon", s.handleUncordon},
		{"POST /api/v1/node/drain", s.handleDrain},
	}, slices.Concat(s.objectRoutes(), s.workloadRoutes(), s.imageRoutes())...)
}

// Handler returns the API's handler, with panic recovery and path checks.
func (s *Server) Handler() http.Handler {
	return s.recoverPanics(cleanPaths(s.mux))
}

func onlyMethod(method string, h http.Handler) http.Handler {
	allowed := strings.Split(method, "|")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(allowed, r.Method) {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeStatus(w, methodNotAllowed())
			return
		}
		h.ServeHTTP(w, r)
	})
}

// cleanPaths answers 404 to paths that are not in canonical form (empty
// segments, dot segments, a trailing slash), which ServeMux would
// otherwise redirect: `/api/v1/namespaces//pods/` names nothing.
func cleanPaths(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.EscapedPath()
		if p == "" || p[0] != '/' || (p != "/" && strings.HasSuffix(p, "/")) || path.Clean(p) != p {
			writeStatus(w, pathNotFound())
			return
		}
		h.ServeHTTP(w, r)
	})
}

// recoverPanics turns a handler panic into a 500 Status, so that a bad
// request never takes the daemon down.
func (s *Server) recoverPanics(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("API handler panicked",
				zap.String("method", r.Method), zap.String("path", r.URL.Path),
				zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
			writeStatus(w, internalError("internal error"))
		}()
		h.ServeHTTP(w, r)
	})
}
