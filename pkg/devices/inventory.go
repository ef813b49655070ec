package devices

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	"tags.cncf.io/container-device-interface/pkg/cdi"
)

// DefaultSpecDirs are where CDI specs live, as the CDI library and
// containerd read them.
var DefaultSpecDirs = []string{"/etc/cdi", "/var/run/cdi"}

// Inventory reads this node's extended resources: the devices of the CDI
// specs in its directories (re-read when they change) and counted
// resources from flags.
type Inventory struct {
	cache  *cdi.Cache
	counts map[v1.ResourceName]int64
}

// NewInventory watches the CDI spec directories (none: no CDI devices).
func NewInventory(specDirs []string, counts map[v1.ResourceName]int64) *Inventory {
	inv := &Inventory{counts: counts}
	if len(specDirs) > 0 {
		inv.cache, _ = cdi.NewCache(cdi.WithSpecDirs(specDirs...), cdi.WithAutoRefresh(true))
	}
	return inv
}

// Pool is what the node has now.
func (i *Inventory) Pool() Pool {
	p := Pool{Devices: map[v1.ResourceName][]string{}, Counts: map[v1.ResourceName]int64{}}
	for r, n := range i.counts {
		p.Counts[r] = n
	}
	if i.cache == nil {
		return p
	}
	for _, d := range i.cache.ListDevices() {
		kind, _, ok := strings.Cut(d, "=")
		if !ok {
			continue
		}
		r := v1.ResourceName(kind)
		p.Devices[r] = append(p.Devices[r], d)
	}
	for r := range p.Devices {
		sort.Strings(p.Devices[r])
	}
	return p
}

// Errors are the problems of the CDI specs, one line each (a broken spec
// gives no devices).
func (i *Inventory) Errors() []string {
	if i.cache == nil {
		return nil
	}
	var out []string
	for file, errs := range i.cache.GetErrors() {
		for _, e := range errs {
			if errors.Is(e, fs.ErrNotExist) {
				continue // a spec directory this host does not have
			}
			out = append(out, fmt.Sprintf("%s: %v", file, e))
		}
	}
	sort.Strings(out)
	return out
}

// ParseCounts reads --node-extended-resources: name=count,... Each name
// must be an extended resource (domain/name, outside kubernetes.io).
func ParseCounts(m map[string]string) (map[v1.ResourceName]int64, error) {
	out := map[v1.ResourceName]int64{}
	for k, v := range m {
		r := v1.ResourceName(k)
		if !IsExtended(r) {
			return nil, fmt.Errorf("%q is not an extended resource (write it as domain/name, e.g. example.com/fpga)", k)
		}
		var n int64
		if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 0 || fmt.Sprint(n) != v {
			return nil, fmt.Errorf("%s=%s: the count must be a whole number", k, v)
		}
		out[r] = n
	}
	return out, nil
}
