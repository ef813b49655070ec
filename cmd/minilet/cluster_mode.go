package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/minilet/minilet/pkg/cgroupfs"
	"github.com/minilet/minilet/pkg/cluster"
	"github.com/minilet/minilet/pkg/kubeletapi"
	"github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/node"
	"github.com/minilet/minilet/pkg/pod"
	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/resourcemetrics"
	"github.com/minilet/minilet/pkg/runtime"
	"github.com/minilet/minilet/pkg/server"
	"github.com/minilet/minilet/pkg/statssummary"
)

// clusterMode holds the parts of cluster mode (--kubeconfig): the API
// client, the node agent (also the node's spec), the informers of the
// pods bound to this node and the source of those pods.
type clusterMode struct {
	flags   *daemonFlags
	client  kubernetes.Interface
	node    *cluster.NodeAgent
	pods    informers.SharedInformerFactory
	apiPods *cluster.APIPods
	events  *cluster.EventSink
	log     *zap.Logger
}

func newClusterMode(ctx context.Context, f *daemonFlags, log *zap.Logger) (*clusterMode, error) {
	client, err := cluster.NewClient(f.kubeconfig, "minilet/"+version)
	if err != nil {
		return nil, err
	}
	agent := cluster.NewNodeAgent(cluster.NodeConfig{
		Name: f.nodeName, FlagLabels: f.nodeLabels,
		LeaseDuration: time.Duration(f.nodeLeaseDurationSeconds) * time.Second,
		StatusUpdate:  f.nodeStatusUpdateFrequency,
	}, client, log.Named("node"))
	pods := cluster.NewPodInformers(client, f.nodeName)
	return &clusterMode{flags: f, client: client, node: agent, pods: pods,
		apiPods: cluster.NewAPIPods(f.nodeName, client, pods, log.Named("pods")),
		events:  cluster.NewEventSink(ctx, client, f.nodeName), log: log}, nil
}

// podEvents is where API pods' events go (nil standalone).
func (c *clusterMode) podEvents() pod.EventSink {
	if c == nil {
		return nil
	}
	return c.events
}

// nodeEvents is where the node's events go (nil standalone).
func (c *clusterMode) nodeEvents() node.EventSink {
	if c == nil {
		return nil
	}
	return c.events
}

// run starts the node agent, and the API pods merged into the file
// states (files → out), each in a goroutine goWait waits for.
func (c *clusterMode) run(ctx context.Context, goWait func(func()), local cluster.NodeSource, mgr *pod.Manager,
	files <-chan manifest.State, out chan<- manifest.State, errc chan<- error) {
	c.node.OnSpecChange(mgr.NodeSpecChanged)
	api := make(chan cluster.APIState)
	goWait(func() { c.node.Run(ctx, local) })
	goWait(func() { c.apiPods.Run(ctx, api) })
	goWait(func() { errc <- cluster.Merge(ctx, files, api, out, c.log.Named("merge")) })
}

// runSyncer starts writing the local pods to the API server (mirror pods,
// statuses, deletions): once the pod manager has adopted what a previous
// run left.
func (c *clusterMode) runSyncer(ctx context.Context, goWait func(func()), nodeName string, mgr *pod.Manager) {
	syncer := cluster.NewPodSyncer(nodeName, c.client, c.pods, mgr, c.node, c.apiPods, c.log.Named("sync"))
	goWait(func() { syncer.Run(ctx) })
}

// kubeletPort is the port of the kubelet API the Node shows (0: none, or
// not in cluster mode).
func (c *clusterMode) kubeletPort() int32 {
	if c == nil {
		return 0
	}
	return int32(c.flags.kubeletPort)
}

// runKubeletAPI serves the kubelet API (--port) over the pods, the
// runtime (exec, port-forward), the local API (logs, attach) and the
// metrics.
func (c *clusterMode) runKubeletAPI(ctx context.Context, goWait func(func()), errc chan<- error, mgr *pod.Manager, rt runtime.Runtime, imageFS func(context.Context) (string, error), local *server.Server, metrics http.Handler) {
	f := c.flags
	if f.kubeletPort == 0 {
		return
	}
	imageDir, err := imageFS(ctx)
	if err != nil {
		c.log.Warn("no image filesystem in the stats summary", zap.Error(err))
	}
	var ips []net.IP
	if ip := net.ParseIP(hostIP()); ip != nil {
		ips = append(ips, ip)
	}
	ips = append(ips, net.IPv4(127, 0, 0, 1))
	cfg := kubeletapi.Config{
		Addr: net.JoinHostPort(f.kubeletAddress, strconv.Itoa(f.kubeletPort)), CertFile: f.tlsCertFile, KeyFile: f.tlsKeyFile,
		ClientCAFile: f.clientCAFile, NodeName: f.nodeName, NodeIPs: ips,
	}
	if f.rotateServerCerts {
		hosts := []string{f.nodeName}
		if h, err := os.Hostname(); err == nil && h != f.nodeName {
			hosts = append(hosts, h)
		}
		for _, ip := range ips {
			hosts = append(hosts, ip.String())
		}
		cert, err := cluster.NewServingCertificate(ctx, c.client, f.nodeName, hosts, filepath.Join(f.rootDir, "pki"))
		if err != nil {
			errc <- err
			return
		}
		cfg.Certificate = cert
	}
	api := kubeletapi.New(cfg, kubeletapi.Deps{
		Auth: kubeletapi.NewAuth(c.client, f.nodeName), Pods: mgr, Exec: rt, Attach: local, Ports: podDialer{rt: rt},
		Local: local.Handler(), Metrics: metrics, ResourceMetrics: c.resourceMetrics(mgr), Stats: c.statsSummary(mgr, rt, imageDir),
		Log: c.log.Named("kubelet-api"),
	})
	goWait(func() { errc <- api.Run(ctx) })
}

// resourceMetrics serves /metrics/resource: the pods' and the node's CPU
// and memory from the cgroups, files' pods named as their mirror pods
// (nil when the cgroups cannot be read).
func (c *clusterMode) resourceMetrics(mgr *pod.Manager) http.Handler {
	fs, err := cgroupfs.Open()
	if err != nil {
		c.log.Warn("no resource metrics: cannot read the cgroups", zap.Error(err))
		return nil
	}
	node := c.flags.nodeName
	reg := prometheus.NewRegistry()
	reg.MustRegister(resourcemetrics.New(resourcemetrics.Config{
		Pods: mgr.EvictionCandidates, Cgroups: fs,
		Name: func(p *v1.Pod) string { return cluster.APIName(p, node) },
	}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// statsSummary serves /stats/summary: the node's and the pods' use from
// the cgroups, /proc and the filesystems, files' pods named as their
// mirror pods (nil when the cgroups cannot be read).
func (c *clusterMode) statsSummary(mgr *pod.Manager, rt runtime.Runtime, imageFS string) http.Handler {
	fs, err := cgroupfs.Open()
	if err != nil {
		c.log.Warn("no stats summary: cannot read the cgroups", zap.Error(err))
		return nil
	}
	node := c.flags.nodeName
	return statssummary.New(statssummary.Config{
		NodeName: node, Pods: mgr.EvictionCandidates, Cgroups: fs,
		Name:    func(p *v1.Pod) string { return cluster.APIName(p, node) },
		PodPID:  func(p *v1.Pod) uint32 { return sandboxPID(rt, p) },
		RootDir: c.flags.rootDir, ImageFsDir: imageFS,
	})
}

// sandboxPID is the PID of the pod's running pause container, whose
// network namespace is the pod's (0: none, or the pod uses the host's
// network, whose counters are the node's).
func sandboxPID(rt runtime.Runtime, p *v1.Pod) uint32 {
	if p.Spec.HostNetwork {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cs, err := rt.ListContainers(ctx, map[string]string{podsandbox.LabelPodUID: string(p.UID), podsandbox.LabelContainerType: podsandbox.TypeSandbox})
	if err != nil {
		return 0
	}
	for _, c := range cs {
		if c.State == runtime.StateRunning {
			return c.PID
		}
	}
	return 0
}
