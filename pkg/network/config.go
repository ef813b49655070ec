package network

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
)

// Config says where the CNI plugins and configs live and what default
// network to write when the config directory holds none.
type Config struct {
	// BinDirs are searched for plugin binaries, in order.
	// Default: /usr/lib/cni, /opt/cni/bin.
	BinDirs []string
	// ConfDir holds *.conflist, *.conf and *.json network configs
	// (--cni-conf-dir). Default: /etc/cni/net.d.
	ConfDir string
	// CacheDir is this daemon's CNI state directory; the default network's
	// host-local IP allocations live under CacheDir/networks, so two
	// daemons with different CacheDirs never share an address pool.
	// Default: /var/lib/minilet/cni.
	//
	// libcni's own result cache stays in /var/lib/cni: go-cni v1.1.14 has
	// no option to move it. Its entries are keyed by network name and pod
	// ID, so daemons with different NetworkNames do not collide there.
	CacheDir string
	// NetnsDir is where pod network namespaces are bind-mounted, one file
	// per pod ID. Default: /run/minilet/netns.
	NetnsDir string
	// NetworkName is the network to use when ConfDir holds several, and the
	// name of the default network. Default: minilet.
	NetworkName string
	// BridgeName is the Linux bridge of the default network. Default: minilet0.
	BridgeName string
	// PodCIDR is the subnet of the default network. Default: 10.85.0.0/16.
	PodCIDR string
}

// Defaults of Config's fields.
const (
	DefaultConfDir     = "/etc/cni/net.d"
	DefaultCacheDir    = "/var/lib/minilet/cni"
	DefaultNetnsDir    = "/run/minilet/netns"
	DefaultNetworkName = "minilet"
	DefaultBridgeName  = "minilet0"
	DefaultPodCIDR     = "10.85.0.0/16"
)

// DefaultBinDirs returns the default plugin search path.
func DefaultBinDirs() []string { return []string{"/usr/lib/cni", "/opt/cni/bin"} }

// maxIfNameLen is the longest Linux interface name (IFNAMSIZ - 1).
const maxIfNameLen = 15

// podIDPattern is what CNI accepts as a container ID; the pod ID is also a
// file name under NetnsDir.
var podIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`)

func validPodID(id string) error {
	if !podIDPattern.MatchString(id) || len(id) > 255 {
		return fmt.Errorf("invalid pod ID %q: want letters, digits, '_', '.' and '-', starting with a letter or digit", id)
	}
	return nil
}

// withDefaults fills unset fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if len(c.BinDirs) == 0 {
		c.BinDirs = DefaultBinDirs()
	}
	if c.ConfDir == "" {
		c.ConfDir = DefaultConfDir
	}
	if c.CacheDir == "" {
		c.CacheDir = DefaultCacheDir
	}
	if c.NetnsDir == "" {
		c.NetnsDir = DefaultNetnsDir
	}
	if c.NetworkName == "" {
		c.NetworkName = DefaultNetworkName
	}
	if c.BridgeName == "" {
		c.BridgeName = DefaultBridgeName
	}
	if c.PodCIDR == "" {
		c.PodCIDR = DefaultPodCIDR
	}
	for _, d := range []*string{&c.ConfDir, &c.CacheDir, &c.NetnsDir} {
		abs, err := filepath.Abs(*d)
		if err != nil {
			return c, fmt.Errorf("directory %q: %w", *d, err)
		}
		*d = abs
	}
	if len(c.BridgeName) > maxIfNameLen {
		return c, fmt.Errorf("bridge name %q is longer than %d characters", c.BridgeName, maxIfNameLen)
	}
	if _, _, err := net.ParseCIDR(c.PodCIDR); err != nil {
		return c, fmt.Errorf("pod CIDR %q: %w", c.PodCIDR, err)
	}
	return c, nil
}
