package network

import (
	"context"
	"fmt"
	"net"
	"time"

	gocni "github.com/containerd/go-cni"
	"go.uber.org/zap"
)

// Attach runs CNI ADD for the pod on the namespace at netnsPath: loopback,
// the network as eth0, and the pod's host ports. It returns the pod's IPs,
// IPv4 first. If ADD fails, Attach runs DEL to release what was allocated.
// Attach once per namespace: a second ADD for the same pod fails (eth0
// exists) and its rollback tears down the first.
func (m *Manager) Attach(ctx context.Context, netnsPath string, a Attachment) ([]net.IP, error) {
	opts, err := a.namespaceOpts()
	if err != nil {
		return nil, err
	}
	log := m.podLog(a)
	start := time.Now()
	res, err := m.cniFor(a).Setup(ctx, a.PodID, netnsPath, opts...)
	if err != nil {
		// Release the IP and rules a partial ADD may have left. Use a fresh
		// context: ctx may be what ran out.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if derr := m.remove(dctx, netnsPath, a, opts); derr != nil {
			log.Warn("CNI DEL after a failed ADD failed", zap.Error(derr))
		}
		return nil, fmt.Errorf("attach pod %s to network %q: %w", a.PodID, m.network, err)
	}
	ips := podIPs(res)
	if len(ips) == 0 {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if derr := m.remove(dctx, netnsPath, a, opts); derr != nil {
			log.Warn("CNI DEL after an ADD without IPs failed", zap.Error(derr))
		}
		return nil, fmt.Errorf("attach pod %s to network %q: the plugins returned no IP", a.PodID, m.network)
	}
	log.Info("attached pod network", zap.Stringers("ips", ipStringers(ips)),
		zap.Int("hostPorts", len(a.Ports)), zap.Duration("took", time.Since(start)))
	return ips, nil
}

// podIPs collects the IPs of eth0 (or of every interface but lo, when the
// plugins did not name eth0), IPv4 before IPv6.
func podIPs(res *gocni.Result) []net.IP {
	var cfgs []*gocni.IPConfig
	if c, ok := res.Interfaces[ifPrefix+"0"]; ok && len(c.IPConfigs) > 0 {
		cfgs = c.IPConfigs
	} else {
		for name, c := range res.Interfaces {
			if name != "lo" {
				cfgs = append(cfgs, c.IPConfigs...)
			}
		}
	}
	var v4, v6 []net.IP
	for _, c := range cfgs {
		if c == nil || c.IP == nil {
			continue
		}
		if ip4 := c.IP.To4(); ip4 != nil {
			v4 = append(v4, ip4)
		} else {
			v6 = append(v6, c.IP)
		}
	}
	return append(v4, v6...)
}

func ipStringers(ips []net.IP) []fmt.Stringer {
	out := make([]fmt.Stringer, len(ips))
	for i, ip := range ips {
		out[i] = ip
	}
	return out
}

// podLog narrows the logger to one pod.
func (m *Manager) podLog(a Attachment) *zap.Logger {
	fields := []zap.Field{zap.String("podID", a.PodID)}
	if a.Name != "" {
		fields = append(fields, zap.String("pod", a.Namespace+"/"+a.Name))
	}
	return m.log.With(fields...)
}
