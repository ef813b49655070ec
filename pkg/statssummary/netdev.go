package statssummary

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// defaultInterface is the interface whose counters a NetworkStats holds
// inline, as the kubelet's.
const defaultInterface = "eth0"

// parseNetDev are the interfaces' counters in a /proc/<pid>/net/dev:
// two header lines, then "name: rx bytes packets errs drop fifo frame
// compressed multicast tx bytes packets errs ...".
func parseNetDev(text string) ([]statsapi.InterfaceStats, error) {
	var out []statsapi.InterfaceStats
	for _, line := range strings.Split(text, "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || strings.Contains(name, "|") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 16 {
			return nil, fmt.Errorf("net/dev: %d fields for %s, want 16", len(f), strings.TrimSpace(name))
		}
		var n [4]uint64
		for i, col := range []int{0, 2, 8, 10} {
			v, err := strconv.ParseUint(f[col], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("net/dev: %s: %w", strings.TrimSpace(name), err)
			}
			n[i] = v
		}
		out = append(out, statsapi.InterfaceStats{
			Name:    strings.TrimSpace(name),
			RxBytes: &n[0], RxErrors: &n[1], TxBytes: &n[2], TxErrors: &n[3],
		})
	}
	return out, nil
}

// networkStats are a network namespace's stats at a time: its
// interfaces but the ignored ones, eth0's counters inline.
func networkStats(at time.Time, ifaces []statsapi.InterfaceStats) *statsapi.NetworkStats {
	ns := &statsapi.NetworkStats{Time: metav1.NewTime(at)}
	for _, i := range ifaces {
		if ignoredInterface(i.Name) {
			continue
		}
		if i.Name == defaultInterface {
			ns.InterfaceStats = i
		}
		ns.Interfaces = append(ns.Interfaces, i)
	}
	return ns
}

// ignoredInterface reports whether cAdvisor leaves an interface out of a
// network's stats: loopback, and the host ends of containers' links.
func ignoredInterface(name string) bool {
	for _, p := range []string{"lo", "veth", "docker", "nerdctl"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
