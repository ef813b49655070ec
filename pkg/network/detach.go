package network

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"time"

	gocni "github.com/containerd/go-cni"

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
	if err := m.remove(ctx, path, a, opts); err != nil {
		return fmt.Errorf("detach pod %s from network %q: %w", a.PodID, m.network, err)
	}
	if err := sweepRules(ctx, m.network, a.PodID, log); err != nil {
		return fmt.Errorf("detach pod %s from network %q: sweep iptables: %w", a.PodID, m.network, err)
	}
	log.Info("detached pod network", zap.Bool("withNetns", path != ""), zap.Duration("took", time.Since(start)))
	return nil
}

// missingMasqChain matches a DEL that failed because the chain a masquerade
// rule jumps to was never made: an ADD cut short (the daemon killed with
// its plugins) can leave the pod's address and veth without it, and the
// bridge plugin's DEL then deletes a rule naming that chain, which
// iptables-nft refuses with exit status 2, "Chain '…' does not exist", an
// error the plugin does not take for "already gone".
var missingMasqChain = regexp.MustCompile(`running \[(\S*ip6?tables) .*Chain '(CNI-[0-9a-f]+)' does not exist`)

// remove runs CNI DEL. When it fails on a missing masquerade chain, it
// makes that chain, empty, so that the plugin's delete finds no rule and
// goes on (removing the chain again), and runs DEL once more; a chain per
// address family at most.
func (m *Manager) remove(ctx context.Context, path string, a Attachment, opts []gocni.NamespaceOpts) error {
	err := m.cniFor(a).Remove(ctx, a.PodID, path, opts...)
	for made := map[string]bool{}; err != nil; {
		sub := missingMasqChain.FindStringSubmatch(err.Error())
		if sub == nil || made[sub[1]+" "+sub[2]] || len(made) == 2 {
			return err
		}
		made[sub[1]+" "+sub[2]] = true
		if out, cerr := exec.CommandContext(ctx, sub[1], "-t", "nat", "-N", sub[2], "--wait").CombinedOutput(); cerr != nil {
			return fmt.Errorf("%w (and making the missing chain %s failed: %v: %s)", err, sub[2], cerr, bytes.TrimSpace(out))
		}
		m.podLog(a).Info("CNI DEL failed on a masquerade chain an interrupted ADD never made; made it empty and trying again", zap.String("chain", sub[2]))
		err = m.cniFor(a).Remove(ctx, a.PodID, path, opts...)
	}
	return nil
}
