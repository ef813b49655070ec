package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/minilet/minilet/pkg/claims"
	"github.com/minilet/minilet/pkg/cluster"
	"github.com/minilet/minilet/pkg/credentials"
	"github.com/minilet/minilet/pkg/devices"
	"github.com/minilet/minilet/pkg/eviction"
	"github.com/minilet/minilet/pkg/imagegc"
	"github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/metrics"
	"github.com/minilet/minilet/pkg/network"
	"github.com/minilet/minilet/pkg/node"
	"github.com/minilet/minilet/pkg/pod"
	"github.com/minilet/minilet/pkg/podhost"
	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/probe"
	rtcontainerd "github.com/minilet/minilet/pkg/runtime/containerd"
	"github.com/minilet/minilet/pkg/server"
	"github.com/minilet/minilet/pkg/workload"
)

// daemonFlags are the flags of `minilet daemon`.
type daemonFlags struct {
	manifestDir         string
	containerdAddress   string
	containerdNamespace string
	rootDir             string
	podLogDir           string
	logLinkDir          string
	metricsAddress      string
	cniBinDirs          []string
	cniConfDir          string
	podCIDR             string
	networkName         string
	bridgeName          string
	nodeName            string
	nodeLabels          map[string]string
	pauseImage          string
	pauseBinary         string
	imageCredentials    string
	imageGC             imagegc.Policy
	imageGCPeriod       time.Duration
	// node-pressure eviction, as the kubelet's flags
	eviction                   eviction.Flags
	evictionMaxPodGracePeriod  int64
	evictionTransitionPeriod   time.Duration
	evictionMonitoringInterval time.Duration
	evictStaticPods            bool
	// credential provider plugins, as the kubelet's flags
	credentialProviderConfig string
	credentialProviderBinDir string
	resolvConf               string
	backoffMax               time.Duration
	parallelPodStarts        int
	rescanInterval           time.Duration
	logLevel                 string
	logFormat                string
	followSymlinks           bool
	testCrashAt              string
	volumeDir                string
	seccompProfileRoot       string
	allowedUnsafeSysctls     []string
	cdiSpecDirs              []string
	extendedResources        map[string]string
	pprof                    bool
	containerLogMaxSize      string
	logDriver                string
	containerLogMaxFiles     int
	metricsAddressSet        bool // the operator named --metrics-address: a non-loopback one is allowed
	// cluster mode
	kubeconfig                string
	nodeLeaseDurationSeconds  int
	nodeStatusUpdateFrequency time.Duration
	kubeletPort               int
	kubeletAddress            string
	tlsCertFile, tlsKeyFile   string
	clientCAFile              string
	rotateServerCerts         bool
}

func newDaemonCommand(g *globalFlags) *cobra.Command {
	f := &daemonFlags{}
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "run the minilet node agent",
		Long: `Run the minilet node agent: watch --manifest-dir for Pod manifests and run
them in containerd. Pods keep running when the daemon stops; a new daemon adopts them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.metricsAddressSet = cmd.Flags().Changed("metrics-address")
			if err := metrics.CheckAddr(f.metricsAddress, f.metricsAddressSet); err != nil {
				return fmt.Errorf("--metrics-address: %w", err)
			}
			return runDaemon(cmd.Context(), g, f, nil)
		},
	}
	addDaemonFlags(cmd.Flags(), f)
	return cmd
}

// addDaemonFlags registers the daemon's flags on fl (the daemon's, and
// reset's, which must find what the daemon made).
func addDaemonFlags(fl *pflag.FlagSet, f *daemonFlags) {
	host, _ := os.Hostname()
	fl.StringVar(&f.manifestDir, "manifest-dir", "/etc/minilet", "directory of Pod manifests (*.yaml, *.yml, *.json)")
	fl.StringVar(&f.containerdAddress, "containerd-address", "/run/containerd/containerd.sock", "containerd's socket")
	fl.StringVar(&f.containerdNamespace, "containerd-namespace", "minilet", "containerd namespace of minilet's containers and images")
	fl.StringVar(&f.rootDir, "root-dir", "/var/lib/minilet", "directory of minilet's persistent state")
	fl.StringVar(&f.volumeDir, "volume-dir", "", "directory of PersistentVolumeClaims' data, <dir>/<namespace>/<claim> (default: <root-dir>/volumes)")
	fl.StringVar(&f.seccompProfileRoot, "seccomp-profile-root", podsandbox.DefaultSeccompProfileRoot, "directory of Localhost seccomp profiles (OCI LinuxSeccomp JSON), as the kubelet's")
	fl.StringSliceVar(&f.allowedUnsafeSysctls, "allowed-unsafe-sysctls", nil, "unsafe sysctls (or patterns ending in *) pods may set beside the kubelet's safe set, e.g. 'kernel.msg*,net.core.somaxconn'")
	fl.StringSliceVar(&f.cdiSpecDirs, "cdi-spec-dirs", devices.DefaultSpecDirs, "directories of CDI specs: each device kind (vendor.com/class) is an extended resource pods can ask for in resources.limits")
	fl.StringToStringVar(&f.extendedResources, "node-extended-resources", nil, "extended resources this node has without CDI devices, name=count,... (e.g. example.com/license=4)")
	fl.StringVar(&f.podLogDir, "pod-log-dir", "/var/log/pods", "directory of container logs")
	fl.StringVar(&f.logLinkDir, "container-log-link-dir", "/var/log/containers", "directory of the kubelet-style links <pod>_<namespace>_<container>-<id>.log to container logs, which log shippers tail (empty: no links)")
	fl.StringVar(&f.metricsAddress, "metrics-address", "127.0.0.1:10255", "address of /metrics and /healthz (\"\" turns them off)")
	fl.BoolVar(&f.pprof, "pprof", false, "serve /debug/pprof on the metrics address")
	fl.StringVar(&f.containerLogMaxSize, "container-log-max-size", "10Mi", "rotate a container's log file at this size (the kubelet's containerLogMaxSize)")
	fl.StringVar(&f.logDriver, "log-driver", "", "program the containerd shim runs to write container logs (default: minilet-log-driver beside minilet, then in /usr/local/lib/minilet, else minilet itself)")
	fl.IntVar(&f.containerLogMaxFiles, "container-log-max-files", 5, "log files kept per container, the current one included (the kubelet's containerLogMaxFiles)")
	fl.StringSliceVar(&f.cniBinDirs, "cni-bin-dir", []string{"/usr/lib/cni", "/opt/cni/bin"}, "directories of CNI plugins")
	fl.StringVar(&f.cniConfDir, "cni-conf-dir", "/etc/cni/net.d", "directory of CNI network configs; a default bridge network is written there if it holds none")
	fl.StringVar(&f.podCIDR, "pod-cidr", "10.85.0.0/16", "subnet of the default bridge network")
	fl.StringVar(&f.networkName, "network-name", "minilet", "CNI network name (of the default network, or the one to pick in --cni-conf-dir)")
	fl.StringVar(&f.bridgeName, "bridge-name", "minilet0", "bridge of the default network")
	fl.StringVar(&f.nodeName, "node-name", strings.ToLower(host), "name of this node (spec.nodeName)")
	fl.StringToStringVar(&f.nodeLabels, "node-labels", nil, "labels of this node, key=value,...")
	fl.StringVar(&f.pauseImage, "pause-image", "", "pause image (default: minilet's own, imported into containerd when missing)")
	fl.StringVar(&f.pauseBinary, "pause-binary", "", "pause program to build the default pause image from (default: 'pause' beside the minilet binary, then /usr/local/lib/minilet/pause)")
	fl.StringVar(&f.imageCredentials, "image-credentials", "", "docker-style config.json with registry credentials (auths, credHelpers, credsStore)")
	fl.StringVar(&f.credentialProviderConfig, "image-credential-provider-config", "", "the kubelet's CredentialProviderConfig (kubelet.config.k8s.io/v1): credential provider plugins, asked before --image-credentials")
	fl.StringVar(&f.credentialProviderBinDir, "image-credential-provider-bin-dir", "", "directory of the credential provider plugins")
	fl.IntVar(&f.imageGC.HighThresholdPercent, "image-gc-high-threshold", imagegc.DefaultPolicy.HighThresholdPercent, "percent of the image filesystem in use above which image GC runs (the kubelet's flag)")
	fl.IntVar(&f.imageGC.LowThresholdPercent, "image-gc-low-threshold", imagegc.DefaultPolicy.LowThresholdPercent, "percent of the image filesystem in use image GC frees down to (the kubelet's flag)")
	fl.DurationVar(&f.imageGC.MinAge, "minimum-image-ttl-duration", imagegc.DefaultPolicy.MinAge, "an unused image is kept at least this long (the kubelet's imageMinimumGCAge)")
	fl.DurationVar(&f.imageGCPeriod, "image-gc-period", imagegc.DefaultPeriod, "how often image GC looks (the kubelet's fixed ImageGCPeriod)")
	fl.DurationVar(&f.imageGC.MaxAge, "image-maximum-gc-age", 0, "an image unused this long is removed whatever the usage (the kubelet's imageMaximumGCAge; 0: never)")
	fl.StringVar(&f.eviction.Hard, "eviction-hard", "", "hard eviction thresholds, signal<value,... (the kubelet's flag; default "+eviction.DefaultHard+"; a signal left out keeps its default, <0 turns one off)")
	fl.StringVar(&f.eviction.Soft, "eviction-soft", "", "soft eviction thresholds, signal<value,..., each with a grace period in --eviction-soft-grace-period (the kubelet's flag)")
	fl.StringVar(&f.eviction.SoftGracePeriod, "eviction-soft-grace-period", "", "how long each soft threshold must hold before a pod is evicted, signal=duration,... (the kubelet's flag)")
	fl.StringVar(&f.eviction.MinimumReclaim, "eviction-minimum-reclaim", "", "how much more than a threshold must be available before it is relieved, signal=value,... (the kubelet's flag)")
	fl.Int64Var(&f.evictionMaxPodGracePeriod, "eviction-max-pod-grace-period", 0, "longest grace period in seconds a soft eviction gives a pod (the kubelet's flag)")
	fl.DurationVar(&f.evictionTransitionPeriod, "eviction-pressure-transition-period", 5*time.Minute, "how long a pressure condition stays after its threshold was last met (the kubelet's flag)")
	fl.DurationVar(&f.evictionMonitoringInterval, "eviction-monitoring-interval", eviction.DefaultInterval, "how often the signals are measured (the kubelet's is a fixed 10s)")
	fl.BoolVar(&f.evictStaticPods, "evict-static-pods", false, "let pods from manifest files be evicted under node pressure (the kubelet never evicts static pods)")
	fl.StringVar(&f.resolvConf, "resolv-conf", "", "resolv.conf for pods with dnsPolicy Default/ClusterFirst (default: /etc/resolv.conf, or systemd-resolved's upstream file)")
	fl.DurationVar(&f.backoffMax, "crash-loop-backoff-max", 300*time.Second, "cap of the crash-loop back-off")
	fl.IntVar(&f.parallelPodStarts, "max-parallel-pod-starts", 2*goruntime.NumCPU(), "pod sandboxes (netns, CNI ADD, pause) made at once; more pods wait their turn, up to 10 s each (0: no bound)")
	fl.DurationVar(&f.rescanInterval, "rescan-interval", 20*time.Second, "full rescan of --manifest-dir, beside file watching")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fl.StringVar(&f.logFormat, "log-format", "auto", "journal, json, console, or auto (journal when stderr is the systemd journal, console otherwise)")
	fl.BoolVar(&f.followSymlinks, "follow-symlinks", false, "follow symlinks in --manifest-dir that point outside it")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig of a Kubernetes API server: minilet joins that cluster as the node --node-name (empty: standalone)")
	fl.IntVar(&f.nodeLeaseDurationSeconds, "node-lease-duration-seconds", int(cluster.DefaultLeaseDuration/time.Second), "duration of the node's Lease in kube-node-lease, renewed every quarter of it (the kubelet's nodeLeaseDurationSeconds)")
	fl.DurationVar(&f.nodeStatusUpdateFrequency, "node-status-update-frequency", cluster.DefaultStatusUpdate, "how often the node's status is computed and sent to the API server when it changed (the kubelet's flag)")
	fl.IntVar(&f.kubeletPort, "port", 10250, "port of the kubelet API in cluster mode (logs, exec through the API server; the kubelet's flag); 0 turns it off")
	fl.StringVar(&f.kubeletAddress, "address", "0.0.0.0", "address the kubelet API listens on (the kubelet's flag)")
	fl.StringVar(&f.tlsCertFile, "tls-cert-file", "", "serving certificate of the kubelet API (default: a self-signed one, made at start)")
	fl.StringVar(&f.tlsKeyFile, "tls-private-key-file", "", "key of --tls-cert-file")
	fl.StringVar(&f.clientCAFile, "client-ca-file", "", "CA of the client certificates the kubelet API accepts (the API server's --kubelet-client-certificate); bearer tokens are checked with TokenReview")
	fl.BoolVar(&f.rotateServerCerts, "rotate-server-certificates", false, "get the kubelet API's serving certificate from the CSR API (signer kubernetes.io/kubelet-serving; an administrator approves it) and renew it; kept in <root-dir>/pki (the kubelet's flag)")
	fl.StringVar(&f.testCrashAt, "test-crash-at", "", "for fault tests: die with SIGKILL at this step")
	_ = fl.MarkHidden("test-crash-at")
}

// checkDaemonFlags rejects bad flags before anything is connected to.
func checkDaemonFlags(f *daemonFlags) (logMax int64, err error) {
	q, err := resource.ParseQuantity(f.containerLogMaxSize)
	if err != nil || q.Value() < 1024 {
		return 0, fmt.Errorf("--container-log-max-size %q: want a size of at least 1Ki, like 10Mi", f.containerLogMaxSize)
	}
	if f.containerLogMaxFiles < 1 {
		return 0, fmt.Errorf("--container-log-max-files must be at least 1")
	}
	if f.logLinkDir != "" && !filepath.IsAbs(f.logLinkDir) {
		return 0, fmt.Errorf("--container-log-link-dir %q: want an absolute path, or empty for no links", f.logLinkDir)
	}
	if f.volumeDir != "" && !filepath.IsAbs(f.volumeDir) {
		return 0, fmt.Errorf("--volume-dir %q: want an absolute path", f.volumeDir)
	}
	if err := f.imageGC.Validate(); err != nil {
		return 0, err
	}
	if err := node.ValidateLabels(f.nodeLabels); err != nil {
		return 0, fmt.Errorf("--node-labels: %w", err)
	}
	if f.nodeLeaseDurationSeconds < 1 {
		return 0, fmt.Errorf("--node-lease-duration-seconds must be at least 1")
	}
	if f.nodeStatusUpdateFrequency <= 0 {
		return 0, fmt.Errorf("--node-status-update-frequency must be positive")
	}
	if f.kubeletPort < 0 || f.kubeletPort > 65535 {
		return 0, fmt.Errorf("--port %d: want 0 (off) to 65535", f.kubeletPort)
	}
	if (f.tlsCertFile == "") != (f.tlsKeyFile == "") {
		return 0, fmt.Errorf("--tls-cert-file and --tls-private-key-file go together")
	}
	if f.rotateServerCerts && f.tlsCertFile != "" {
		return 0, fmt.Errorf("--rotate-server-certificates gets the serving certificate from the API server: leave out --tls-cert-file and --tls-private-key-file")
	}
	if f.rotateServerCerts && f.kubeconfig == "" {
		return 0, fmt.Errorf("--rotate-server-certificates needs --kubeconfig (the certificate comes from the API server)")
	}
	return q.Value(), nil
}

// claimRoot is where claims' data lives.
func claimRoot(f *daemonFlags) string {
	if f.volumeDir != "" {
		return f.volumeDir
	}
	return filepath.Join(f.rootDir, "volumes")
}

// runDaemon runs the node agent until its context ends. With reset set
// (minilet reset) it runs with no manifests instead, and returns once
// every pod is gone.
func runDaemon(parent context.Context, g *globalFlags, f *daemonFlags, reset *resetRun) error {
	logMax, err := checkDaemonFlags(f)
	if err != nil {
		return err
	}
	thresholds, err := eviction.ParseThresholds(f.eviction)
	if err != nil {
		return err
	}
	if f.evictionMaxPodGracePeriod < 0 {
		return fmt.Errorf("--eviction-max-pod-grace-period must not be negative")
	}
	sysctls, err := node.NewSysctlAllowlist(f.allowedUnsafeSysctls)
	if err != nil {
		return fmt.Errorf("--allowed-unsafe-sysctls: %w", err)
	}
	counts, err := devices.ParseCounts(f.extendedResources)
	if err != nil {
		return fmt.Errorf("--node-extended-resources: %w", err)
	}
	log, err := newLogger(f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	routeKlog(log)
	defer log.Sync() //nolint:errcheck
	notify := notifier{log: log, quiet: reset != nil}
	notify.status("starting")
	ctx, stop := signal.NotifyContext(parent, syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{f.rootDir, 0o700}, {g.runDir, 0o700}, {f.podLogDir, 0o755}} {
		if err := os.MkdirAll(d.path, d.mode); err != nil {
			return fmt.Errorf("make %s: %w", d.path, err)
		}
	}
	logDriver, err := findLogDriver(f.logDriver)
	if err != nil {
		return err
	}
	cordon, err := node.OpenSpecStore(filepath.Join(f.rootDir, "node.json"))
	if err != nil {
		return err
	}
	if err := rtcontainerd.PrepareTempMounts(filepath.Join(g.runDir, "tmpmounts")); err != nil {
		log.Warn("cannot clean up the temporary image mounts a previous run left", zap.Error(err))
	}
	keychain := &credentials.Keychain{DockerConfig: f.imageCredentials}
	if f.credentialProviderConfig != "" {
		if keychain.Plugins, err = credentials.LoadPlugins(f.credentialProviderConfig, f.credentialProviderBinDir); err != nil {
			return err
		}
	}
	rt, err := rtcontainerd.New(rtcontainerd.Options{
		Address: f.containerdAddress, Namespace: f.containerdNamespace, Credentials: keychain,
		LogDriver: logDriver, LogMaxSize: logMax, LogMaxFiles: f.containerLogMaxFiles,
		CDISpecDirs: f.cdiSpecDirs, ExecDir: filepath.Join(g.runDir, "exec"), IODir: filepath.Join(g.runDir, "io"),
	}, log.Named("containerd"))
	if err != nil {
		return err
	}
	defer rt.Close()
	if err := waitForRuntime(ctx, rt, log, notify); err != nil {
		return err
	}
	pauseImage, err := ensurePauseImage(ctx, rt, f, log)
	if err != nil {
		return err
	}
	netMgr, err := network.New(network.Config{
		BinDirs: f.cniBinDirs, ConfDir: f.cniConfDir, CacheDir: filepath.Join(f.rootDir, "cni"),
		NetnsDir: filepath.Join(g.runDir, "netns"), NetworkName: f.networkName,
		BridgeName: f.bridgeName, PodCIDR: f.podCIDR,
	}, log.Named("network"))
	if err != nil {
		return err
	}
	defer netMgr.Close()

	host := podhost.Host{HostResolv: f.resolvConf, LogLinkDir: f.logLinkDir}
	if err := host.SweepLogLinks(f.podLogDir); err != nil {
		log.Warn("cannot remove links to logs that are gone", zap.Error(err))
	}
	nodeIP := hostIP()
	reg := prometheus.NewRegistry()
	met, err := metrics.New(reg)
	if err != nil {
		return err
	}
	rti := met.InstrumentRuntime(rt)
	prober := probe.NewManager(rti, probe.Options{
		UserAgent: "minilet-probe/" + version,
		Observer:  probeMetrics{met},
		Log:       log.Named("probe"),
	})
	// Standalone, node.json holds the node's cordon, labels and taints;
	// in cluster mode the API server's Node does.
	var spec interface {
		node.SpecSource
		pod.CordonState
	} = cordon
	var cm *clusterMode
	if f.kubeconfig != "" && reset == nil {
		if cm, err = newClusterMode(ctx, f, log.Named("cluster")); err != nil {
			return err
		}
		spec = cm.node
	}
	reporter := node.NewReporter(node.Info{
		Name: f.nodeName, Labels: f.nodeLabels, MiniletVersion: version,
		InternalIP: nodeIP, PodCIDR: f.podCIDR, Created: cordon.Created(), KubeletPort: cm.kubeletPort(),
	}, f.rootDir, spec, rt)
	inventory := devices.NewInventory(f.cdiSpecDirs, counts)
	for _, e := range inventory.Errors() {
		log.Warn("CDI spec not usable; its devices are not offered", zap.String("problem", e))
	}
	reporter.SetExtendedResources(func() v1.ResourceList { return inventory.Pool().Capacity() })
	mgr := pod.NewManager(pod.Config{
		RootDir: f.rootDir, RunDir: g.runDir, PodLogDir: f.podLogDir, PauseImage: pauseImage,
		NodeName: f.nodeName, HostIP: nodeIP, CgroupRoot: "/minilet/" + f.containerdNamespace,
		BackoffMax: f.backoffMax, CrashPoint: f.testCrashAt, ParallelSandboxes: f.parallelPodStarts,
		VolumeDir: claimRoot(f), SeccompProfileRoot: f.seccompProfileRoot,
	}, pod.Deps{
		Runtime: rti, Network: podNetwork{netMgr}, Host: host, Prober: prober, Observer: met,
		Node: reporter, Cordon: spec, Log: log.Named("pods"),
		Sysctls: sysctls, HostSecurity: hostSecurity(), Devices: inventory, Events: cm.podEvents(),
	})
	if err := metrics.RegisterPods(reg, version, mgr); err != nil {
		return err
	}
	srcOpts := manifest.Options{
		NodeName: f.nodeName, FollowSymlinks: f.followSymlinks, StrictPerms: os.Geteuid() == 0,
		RescanInterval: f.rescanInterval,
	}
	src := manifest.NewSource(f.manifestDir, srcOpts, log.Named("manifests"))
	workloads := workload.NewManager(workload.Config{
		Dir: filepath.Join(f.rootDir, "workloads"), Manifest: srcOpts,
		Node: reporter, Claims: volumeStore{mgr: mgr, store: claims.Store{Root: claimRoot(f)}},
	}, mgr, nil, log.Named("workloads"))
	if err := metrics.RegisterWorkloads(reg, workloads); err != nil {
		return err
	}
	nodeEvents := node.NewEventLog(f.nodeName, nil, cm.nodeEvents())
	imageGC := imagegc.NewManager(imagegc.Config{Policy: f.imageGC, Pinned: []string{pauseImage}, Period: f.imageGCPeriod},
		rt, mgr, gcRecorder{events: nodeEvents, metrics: met}, log.Named("imagegc"))
	meter, err := eviction.NewMeter()
	if err != nil {
		return fmt.Errorf("eviction: %w", err)
	}
	evictions := eviction.NewManager(eviction.Config{
		Thresholds: thresholds, PressureTransitionPeriod: f.evictionTransitionPeriod,
		MaxPodGracePeriod: f.evictionMaxPodGracePeriod, EvictStaticPods: f.evictStaticPods,
	}, eviction.HostSignals{NodeFs: f.rootDir, ImageFs: rt.ImageFSPath}, meter, mgr,
		gcRecorder{events: nodeEvents, metrics: met}, log.Named("eviction"),
		eviction.Options{Reclaim: imageGC, Interval: f.evictionMonitoringInterval,
			Taints: func() []v1.Taint { return reporter.AdmissionNode().Spec.Taints }})
	reporter.SetEviction(evictions)
	mgr.SetPressure(evictions)
	srv := server.New(server.Options{
		Pods: mgr, Health: mgr, ManifestErrors: mgr, Logs: mgr, Node: mgr, Log: log.Named("api"),
		Objects: mgr, Volumes: volumeStore{mgr: mgr, store: claims.Store{Root: claimRoot(f)}}, Workloads: workloads, Exec: rti, Restarter: mgr, Debugger: mgr,
		Images: imageGC, NodeEvents: nodeEvents,
	})

	// Every goroutine below ends with ctx, and is waited for before the
	// deferred Close calls run.
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	goWait := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	// manifest source → workload controllers (which add their pods) →
	// pod manager.
	fileStates, states := make(chan manifest.State), make(chan manifest.State)
	errc := make(chan error, 7)
	if reset != nil {
		// No manifests, no controllers: every pod is stopped and removed.
		goWait(func() {
			select {
			case states <- manifest.State{}:
			case <-ctx.Done():
			}
		})
	} else {
		goWait(func() {
			errc <- metrics.Serve(ctx, f.metricsAddress, f.metricsAddressSet, metrics.Handler(reg, mgr, f.pprof), log.Named("metrics"))
		})
		goWait(func() { errc <- src.Run(ctx, fileStates) })
		goWait(func() { imageGC.Run(ctx) })
		goWait(func() { evictions.Run(ctx) })
		if cm == nil {
			goWait(func() { errc <- workloads.Run(ctx, fileStates, states) })
		} else {
			// The workloads' pods, merged with the API server's.
			withWorkloads := make(chan manifest.State)
			goWait(func() { errc <- workloads.Run(ctx, fileStates, withWorkloads) })
			cm.run(ctx, goWait, reporter, mgr, withWorkloads, states, errc)
		}
	}
	notify.status("adopting the pods a previous minilet left, reading the manifests")
	goWait(func() {
		errc <- mgr.Run(ctx, states, func() {
			// The API answers once the pods a previous daemon left are
			// adopted and the manifests read: before, it would list none.
			goWait(func() { errc <- srv.Serve(ctx, g.runDir) })
			if reset != nil {
				goWait(func() { reset.waitForNoPods(ctx, mgr, stop) })
				return
			}
			if cm != nil {
				cm.runSyncer(ctx, goWait, f.nodeName, mgr)
				cm.runKubeletAPI(ctx, goWait, errc, mgr, rti, rt.ImageFSPath, srv, metrics.Handler(reg, mgr, false))
			}
			log.Info("minilet ready", zap.String("version", version), zap.String("manifestDir", f.manifestDir))
			notify.ready(summary(mgr))
			goWait(func() { notify.run(ctx, mgr) })
			// Startup's garbage (the pause image's archive, adopted
			// pods' listings) would otherwise stay mapped until the
			// next collection, up to two minutes away. Two
			// collections: pooled buffers (containerd's 1 MiB copy
			// buffers) are only dropped by the second. Off the path of
			// the first sync.
			goWait(func() {
				runtime.GC()
				debug.FreeOSMemory()
			})
		})
	})
	select {
	case <-ctx.Done():
		if reset == nil {
			log.Info("minilet stopping; pods keep running")
			notify.stopping()
		}
	case err := <-errc:
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return nil
}

// probeMetrics feeds probe runs to the metrics, with the kubelet's
// probe_type values (Liveness, Readiness, Startup).
type probeMetrics struct{ m *metrics.Metrics }

func (p probeMetrics) ObserveProbe(t probe.Target, kind probe.Kind, r probe.Result, took time.Duration) {
	p.m.ObserveProbe(t.Namespace, t.Pod, t.Container, probeTypeLabel(kind), r.String(), took)
}

func probeTypeLabel(k probe.Kind) string {
	switch k {
	case probe.Liveness:
		return "Liveness"
	case probe.Readiness:
		return "Readiness"
	}
	return "Startup"
}

// waitForRuntime waits until containerd answers, logging while it does not.
func waitForRuntime(ctx context.Context, rt *rtcontainerd.Runtime, log *zap.Logger, notify notifier) error {
	delay := 200 * time.Millisecond
	for {
		err := rt.Ping(ctx)
		if err == nil {
			return nil
		}
		log.Warn("waiting for containerd", zap.Error(err))
		notify.status("waiting for containerd: " + err.Error())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		if delay < 5*time.Second {
			delay *= 2
		}
	}
}
