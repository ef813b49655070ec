package network

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"go.uber.org/zap"
)

// sharedChainPrefix marks portmap's chains that all pods share; the sweep
// deletes rules in them but never the chains.
const sharedChainPrefix = "CNI-HOSTPORT-"

// sweepRules deletes the iptables rules (IPv4 and IPv6) whose comment names
// this network and pod, and the per-pod chains only those rules jump to.
//
// The bridge plugin finds the masquerade rules to delete from the addresses
// on the pod's interface, so a DEL without the namespace leaves them; and
// portmap deletes nothing when DEL is not given the port mappings. Both
// plugins comment their rules `name: "<network>" id: "<pod>"` (portmap
// prefixes "dnat "), which is what the sweep matches. A missing iptables
// binary is not an error: there is then nothing the plugins could have
// added either.
func sweepRules(ctx context.Context, network, podID string, log *zap.Logger) error {
	if network == "" {
		return errors.New("sweep iptables rules: no network name")
	}
	var errs []error
	for _, bin := range []string{"iptables", "ip6tables"} {
		if _, err := exec.LookPath(bin + "-save"); err != nil {
			continue
		}
		if err := sweepFamily(ctx, bin, network, podID, log); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// rule is one "-A CHAIN ..." line of iptables-save.
type rule struct {
	table string
	chain string
	args  []string // after "-A", chain included
	jump  string
}

func sweepFamily(ctx context.Context, bin, network, podID string, log *zap.Logger) error {
	out, err := exec.CommandContext(ctx, bin+"-save").Output()
	if err != nil {
		return fmt.Errorf("%s-save: %w", bin, err)
	}
	marker := `name: \"` + network + `\" id: \"` + podID
	if podID != "" {
		marker += `\"`
	}
	var ours []rule
	jumpers := map[string]map[string]int{} // table -> chain -> rules jumping to it that are not ours
	// The pod's own chains, by the name the plugins give them: a DEL
	// interrupted after deleting the rules that jump to a chain, and
	// before deleting the chain, leaves it with nothing pointing at it.
	own := map[string]bool{}
	if podID != "" {
		for _, prefix := range []string{"", "DN-", "SN-"} {
			own[podChainName(network, podID, prefix)] = true
		}
	}
	type chainKey struct{ table, chain string }
	chains := map[chainKey]bool{}
	table := ""
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "*") {
			table = line[1:]
			continue
		}
		if name, ok := strings.CutPrefix(line, ":"); ok {
			if name, _, _ = strings.Cut(name, " "); own[name] {
				chains[chainKey{table, name}] = true
			}
			continue
		}
		if !strings.HasPrefix(line, "-A ") {
			continue
		}
		args := splitRuleArgs(line[len("-A "):])
		if len(args) == 0 {
			continue
		}
		r := rule{table: table, chain: args[0], args: args}
		for i := 1; i+1 < len(args); i++ {
			if args[i] == "-j" || args[i] == "-g" {
				r.jump = args[i+1]
			}
		}
		if strings.Contains(line, marker) {
			ours = append(ours, r)
			continue
		}
		if r.jump != "" {
			if jumpers[table] == nil {
				jumpers[table] = map[string]int{}
			}
			jumpers[table][r.jump]++
		}
	}
	for c := range chains {
		if jumpers[c.table][c.chain] > 0 {
			delete(chains, c) // still in use (never by design: the name is the pod's)
		}
	}
	if len(ours) == 0 && len(chains) == 0 {
		return nil
	}
	var errs []error
	for _, r := range ours {
		if strings.HasPrefix(r.jump, "CNI-") && !strings.HasPrefix(r.jump, sharedChainPrefix) && jumpers[r.table][r.jump] == 0 {
			chains[chainKey{r.table, r.jump}] = true
		}
	}
	for _, r := range ours {
		if chains[chainKey{r.table, r.chain}] {
			continue // flushed with its chain below
		}
		log.Info("deleting leftover iptables rule", zap.String("table", r.table), zap.String("rule", strings.Join(r.args, " ")))
		if err := runIPTables(ctx, bin, append([]string{"-t", r.table, "-D"}, r.args...)...); err != nil {
			errs = append(errs, err)
		}
	}
	for c := range chains {
		log.Info("deleting leftover iptables chain", zap.String("table", c.table), zap.String("chain", c.chain))
		for _, op := range []string{"-F", "-X"} {
			if err := runIPTables(ctx, bin, "-t", c.table, op, c.chain); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// podChainName is the name the CNI plugins give a pod's own chain
// (containernetworking/plugins utils.FormatChainNameWithPrefix): "CNI-",
// the prefix, and the hex SHA-512 of network name and container ID, cut to
// 28 characters.
func podChainName(network, podID, prefix string) string {
	sum := sha512.Sum512([]byte(network + podID))
	return ("CNI-" + prefix + hex.EncodeToString(sum[:]))[:28]
}

func runIPTables(ctx context.Context, bin string, args ...string) error {
	args = append([]string{"-w"}, args...)
	if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// splitRuleArgs splits an iptables-save rule into arguments, undoing the
// double quotes (and the backslash escapes inside them) around comments.
func splitRuleArgs(s string) []string {
	var args []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			inQuote = !inQuote
			have = true
		case c == ' ' && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}

// SweepNetworkRules deletes every iptables rule CNI made for network (of
// any pod), and the per-pod chains only they used: for tests and tools
// that remove a whole network, after its pods are gone.
func SweepNetworkRules(ctx context.Context, network string, log *zap.Logger) error {
	return sweepRules(ctx, network, "", log)
}
