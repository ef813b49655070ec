package network

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	gocni "github.com/containerd/go-cni"
	"github.com/containernetworking/cni/libcni"
	"go.uber.org/zap"
)

// ifPrefix names the pod's interfaces: the network's is eth0.
const ifPrefix = "eth"

// validateTimeout bounds the plugin version checks New runs.
const validateTimeout = 30 * time.Second

// Manager sets up and tears down pod networks on one CNI network.
// Its methods are safe for concurrent use.
type Manager struct {
	cfg     Config
	log     *zap.Logger
	cni     gocni.CNI
	network string // name of the network in use

	// nsMu serialises netns file creation and removal.
	nsMu sync.Mutex
}

// New prepares the directories, writes the default conflist when ConfDir
// holds no config, loads the network named cfg.NetworkName (or the first
// config by file name) plus loopback, and checks that every plugin it
// names is installed and speaks the config's CNI version.
func New(cfg Config, log *zap.Logger) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("network config: %w", err)
	}
	for _, d := range []string{cfg.CacheDir, ipamDataDir(cfg)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create CNI state dir: %w", err)
		}
	}
	if err := ensureSharedDir(cfg.NetnsDir); err != nil {
		return nil, fmt.Errorf("prepare netns dir %s: %w", cfg.NetnsDir, err)
	}
	wrote, err := writeDefaultConflist(cfg)
	if err != nil {
		return nil, err
	}
	if wrote {
		log.Info("wrote default CNI network config", zap.String("file", defaultConflistPath(cfg)),
			zap.String("bridge", cfg.BridgeName), zap.String("podCIDR", cfg.PodCIDR))
	}
	conf, err := selectConf(cfg.ConfDir, cfg.NetworkName, log)
	if err != nil {
		return nil, err
	}
	if conf.list.Name != cfg.NetworkName {
		log.Warn("no CNI network with the configured name; using the first config",
			zap.String("want", cfg.NetworkName), zap.String("using", conf.list.Name), zap.String("file", conf.path))
	}

	ctx, cancel := context.WithTimeout(context.Background(), validateTimeout)
	defer cancel()
	if _, err := libcni.NewCNIConfig(cfg.BinDirs, nil).ValidateNetworkList(ctx, conf.list); err != nil {
		return nil, fmt.Errorf("CNI network %q from %s: plugins in %v: %w", conf.list.Name, conf.path, cfg.BinDirs, err)
	}

	c, err := gocni.New(
		gocni.WithPluginDir(cfg.BinDirs),
		gocni.WithPluginConfDir(cfg.ConfDir),
		gocni.WithInterfacePrefix(ifPrefix),
		gocni.WithMinNetworkCount(2),
	)
	if err != nil {
		return nil, fmt.Errorf("init CNI: %w", err)
	}
	// The network goes first so that it gets eth0; loopback comes after.
	if err := c.Load(gocni.WithConfListBytes(conf.list.Bytes), gocni.WithLoNetwork); err != nil {
		return nil, fmt.Errorf("load CNI network %q from %s: %w", conf.list.Name, conf.path, err)
	}
	if err := c.Status(); err != nil {
		return nil, fmt.Errorf("CNI network %q: %w", conf.list.Name, err)
	}
	log.Info("CNI network loaded", zap.String("network", conf.list.Name), zap.String("file", conf.path),
		zap.String("cniVersion", conf.list.CNIVersion), zap.String("netnsDir", cfg.NetnsDir))
	return &Manager{cfg: cfg, log: log, cni: c, network: conf.list.Name}, nil
}

// Network returns the name of the CNI network in use.
func (m *Manager) Network() string { return m.network }

// Close releases the manager; it holds nothing that needs closing today.
// Pod networks and namespaces stay as they are, so that pods keep running
// across a daemon restart.
func (m *Manager) Close() error { return nil }
