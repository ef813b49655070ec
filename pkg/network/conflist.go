package network

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"go.uber.org/zap"
)

// defaultCNIVersion is the spec version of the default conflist; Debian's
// containernetworking-plugins 1.1 and later support it.
const defaultCNIVersion = "1.0.0"

// confExtensions are the config file suffixes libcni and containerd read.
func confExtensions() []string { return []string{".conf", ".conflist", ".json"} }

// defaultConflist returns the network written when ConfDir holds none: a
// bridge with the gateway on the host, masquerading, hairpin, host-local
// IPAM in cfg.CacheDir, and portmap for host ports.
func defaultConflist(cfg Config) ([]byte, error) {
	_, subnet, err := net.ParseCIDR(cfg.PodCIDR)
	if err != nil {
		return nil, fmt.Errorf("pod CIDR %q: %w", cfg.PodCIDR, err)
	}
	defaultRoute := "0.0.0.0/0"
	if subnet.IP.To4() == nil {
		defaultRoute = "::/0"
	}
	type obj = map[string]any
	list := obj{
		"cniVersion": defaultCNIVersion,
		"name":       cfg.NetworkName,
		"plugins": []obj{
			{
				"type":        "bridge",
				"bridge":      cfg.BridgeName,
				"isGateway":   true,
				"ipMasq":      true,
				"hairpinMode": true,
				"ipam": obj{
					"type":    "host-local",
					"ranges":  [][]obj{{{"subnet": subnet.String()}}},
					"routes":  []obj{{"dst": defaultRoute}},
					"dataDir": ipamDataDir(cfg),
				},
			},
			{
				"type":         "portmap",
				"capabilities": obj{"portMappings": true},
			},
		},
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode default conflist: %w", err)
	}
	return append(b, '\n'), nil
}

// ipamDataDir is where the default network's host-local plugin records its
// allocations (one file per IP under <dataDir>/<network name>/).
func ipamDataDir(cfg Config) string { return filepath.Join(cfg.CacheDir, "networks") }

// defaultConflistPath is where the default conflist is written.
func defaultConflistPath(cfg Config) string {
	return filepath.Join(cfg.ConfDir, "10-"+cfg.NetworkName+".conflist")
}

// loadedConf is the network chosen from ConfDir.
type loadedConf struct {
	path string
	list *libcni.NetworkConfigList
}

// writeDefaultConflist writes the default conflist unless ConfDir already
// holds a config file. It returns whether it wrote one.
func writeDefaultConflist(cfg Config) (bool, error) {
	if err := os.MkdirAll(cfg.ConfDir, 0o755); err != nil {
		return false, fmt.Errorf("create CNI config dir: %w", err)
	}
	files, err := libcni.ConfFiles(cfg.ConfDir, confExtensions())
	if err != nil {
		return false, fmt.Errorf("list CNI configs in %s: %w", cfg.ConfDir, err)
	}
	if len(files) > 0 {
		return false, nil
	}
	data, err := defaultConflist(cfg)
	if err != nil {
		return false, err
	}
	path := defaultConflistPath(cfg)
	// Write under a name libcni ignores, then rename, so that no reader
	// ever sees half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return false, fmt.Errorf("write default CNI config: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return false, fmt.Errorf("write default CNI config: %w", err)
	}
	return true, nil
}

// selectConf loads every config in confDir and returns the one whose network
// is named name, or else the first by file name. Files that do not parse are
// logged and skipped.
func selectConf(confDir, name string, log *zap.Logger) (loadedConf, error) {
	files, err := libcni.ConfFiles(confDir, confExtensions())
	if err != nil {
		return loadedConf{}, fmt.Errorf("list CNI configs in %s: %w", confDir, err)
	}
	sort.Strings(files)
	var first *loadedConf
	var errs []error
	for _, f := range files {
		list, err := loadConfFile(f)
		if err != nil {
			log.Warn("skipping CNI config", zap.String("file", f), zap.Error(err))
			errs = append(errs, err)
			continue
		}
		lc := loadedConf{path: f, list: list}
		if list.Name == name {
			return lc, nil
		}
		if first == nil {
			first = &lc
		}
	}
	if first == nil {
		return loadedConf{}, fmt.Errorf("no usable CNI network config in %s: %w", confDir, errors.Join(errs...))
	}
	return *first, nil
}

// loadConfFile reads a .conflist, or a single-plugin .conf/.json, as a list.
func loadConfFile(path string) (*libcni.NetworkConfigList, error) {
	if strings.HasSuffix(path, ".conflist") {
		list, err := libcni.ConfListFromFile(path)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		if len(list.Plugins) == 0 {
			return nil, fmt.Errorf("load %s: no plugins", path)
		}
		return list, nil
	}
	conf, err := libcni.ConfFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if conf.Network.Type == "" {
		return nil, fmt.Errorf("load %s: no plugin type (a conflist in a .conf file?)", path)
	}
	list, err := libcni.ConfListFromConf(conf)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return list, nil
}

// RemoveDefaultConflist removes the conflist minilet wrote for cfg, if the
// file is still exactly what it wrote (an operator's edited or own file
// stays), and reports whether it did.
func RemoveDefaultConflist(cfg Config) (string, bool, error) {
	path := defaultConflistPath(cfg)
	have, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, false, nil
	}
	if err != nil {
		return path, false, err
	}
	want, err := defaultConflist(cfg)
	if err != nil || !bytes.Equal(have, want) {
		return path, false, err
	}
	return path, true, os.Remove(path)
}
