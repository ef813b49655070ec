package network

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
	cfg Config
	log *zap.Logger
	cni gocni.CNI
	// noPorts is the same network without its portmap plugin, for pods
	// without host ports (nil when the network has no portmap): portmap
	// has nothing to do for them, and each of its runs is a process.
	noPorts gocni.CNI
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

	c, err := loadCNI(cfg, conf.list.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CNI network %q from %s: %w", conf.list.Name, conf.path, err)
	}
	m := &Manager{cfg: cfg, log: log, cni: c, network: conf.list.Name}
	// Before any ADD of this daemon: allocations a killed ADD left
	// without an owner (the default network's host-local directory).
	if freed, err := sweepEmptyAllocations(filepath.Join(ipamDataDir(cfg), conf.list.Name)); err != nil {
		log.Warn("cannot check the IP allocations for ones a killed CNI ADD left", zap.Error(err))
	} else if len(freed) > 0 {
		log.Info("freed IP allocations a killed CNI ADD left without an owner", zap.Strings("ips", freed))
	}
	if reduced, ok, err := withoutPortmap(conf.list.Bytes); err != nil {
		return nil, fmt.Errorf("CNI network %q from %s: %w", conf.list.Name, conf.path, err)
	} else if ok {
		if m.noPorts, err = loadCNI(cfg, reduced); err != nil {
			return nil, fmt.Errorf("CNI network %q from %s without portmap: %w", conf.list.Name, conf.path, err)
		}
	}
	log.Info("CNI network loaded", zap.String("network", conf.list.Name), zap.String("file", conf.path),
		zap.String("cniVersion", conf.list.CNIVersion), zap.String("netnsDir", cfg.NetnsDir),
		zap.Bool("portmapOnlyForHostPorts", m.noPorts != nil))
	return m, nil
}

// loadCNI makes a go-cni instance of the conflist plus loopback.
func loadCNI(cfg Config, conflist []byte) (gocni.CNI, error) {
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
	if err := c.Load(gocni.WithConfListBytes(conflist), gocni.WithLoNetwork); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := c.Status(); err != nil {
		return nil, err
	}
	return c, nil
}

// withoutPortmap returns the conflist without its portmap plugins, and
// whether it had any. The rest of the chain keeps its order.
func withoutPortmap(conflist []byte) ([]byte, bool, error) {
	var list map[string]any
	if err := json.Unmarshal(conflist, &list); err != nil {
		return nil, false, fmt.Errorf("parse conflist: %w", err)
	}
	plugins, _ := list["plugins"].([]any)
	var kept []any
	for _, p := range plugins {
		if m, ok := p.(map[string]any); ok && m["type"] == "portmap" {
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) == len(plugins) || len(kept) == 0 {
		return nil, false, nil
	}
	list["plugins"] = kept
	b, err := json.Marshal(list)
	return b, err == nil, err
}

// cniFor is the plugin chain for a pod: without portmap when it has no
// host ports. ADD and DEL of a pod pick the same chain, as its ports never
// change; a pod attached with the whole chain and detached without portmap
// loses nothing, as portmap made no rule for it.
func (m *Manager) cniFor(a Attachment) gocni.CNI {
	if len(a.Ports) == 0 && m.noPorts != nil {
		return m.noPorts
	}
	return m.cni
}

// Network returns the name of the CNI network in use.
func (m *Manager) Network() string { return m.network }

// Close releases the manager; it holds nothing that needs closing today.
// Pod networks and namespaces stay as they are, so that pods keep running
// across a daemon restart.
func (m *Manager) Close() error { return nil }
