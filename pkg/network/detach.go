package network

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Detach runs CNI DEL for the pod: the plugins release its IP, its host
// port rules and its masquerade rule. It needs only a.PodID and a.Ports and
// is idempotent: a namespace that is already gone (or a path that is empty
// or no longer a mounted namespace) turns into a DEL without a namespace,
// which the CNI spec allows and which still releases the IP; a DEL for a
// pod that was never attached succeeds.
//
// Call Detach before RemoveNetns: the bridge plugin finds the masquerade
// rules to delete from the pod's interface. After DEL, Detach sweeps away
// any iptables rule still commented with this network and pod ID: the
// masquerade rules the bridge plugin could not find because the namespace
// was gone, and portmap's rules when a.Ports was lost.
func (m *Manager) Detach(ctx context.Context, netnsPath string, a Attachment) error {
	opts, err := a.namespaceOpts()
	if err != nil {
		return err
	}
	log := m.podLog(a)
	path := netnsPath
	if path != "" {
		ok, err := isNetns(path)
		if err != nil {
			return fmt.Errorf("detach pod %s: %w", a.PodID, err)
		}
		if !ok {
			log.Debug("netns is gone; running CNI DEL without it", zap.String("netns", netnsPath))
			path = ""
		}
	}
	start := time.Now()
	if err := m.cniFor(a).Remove(ctx, a.PodID, path, opts...); err != nil {
		return fmt.Errorf("detach pod %s from network %q: %w", a.PodID, m.network, err)
	}
	if err := sweepRules(ctx, m.network, a.PodID, log); err != nil {
		return fmt.Errorf("detach pod %s from network %q: sweep iptables: %w", a.PodID, m.network, err)
	}
	log.Info("detached pod network", zap.Bool("withNetns", path != ""), zap.Duration("took", time.Since(start)))
	return nil
}
