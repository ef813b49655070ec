package integration

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestChurn creates and deletes pods over and over; the host must end as it
// began: no containers, snapshots, netns, IP allocations, mounts, cgroups,
// iptables rules, shims or state left. MINILET_CHURN_ROUNDS raises the
// number of rounds (CI runs 10 rounds of 5 pods).
func TestChurn(t *testing.T) {
	d := startDaemon(t)
	rounds := 10
	if n, err := fmt.Sscan(os.Getenv("MINILET_CHURN_ROUNDS"), &rounds); n != 1 || err != nil {
		rounds = 10
	}
	shimsBefore := countProcesses("containerd-shim")
	driversBefore := countProcesses("log-driver")
	const pods = 5
	for r := 0; r < rounds; r++ {
		for i := 0; i < pods; i++ {
			d.writeManifest(fmt.Sprintf("churn-%d.yaml", i), strings.Replace(sleeperPod(fmt.Sprintf("churn-%d", i),
				fmt.Sprintf("    env: [{name: ROUND, value: \"%d\"}]\n    ports: [{containerPort: 80, hostPort: %d}]\n", r, 21000+d.n*10+i)),
				"terminationGracePeriodSeconds: 1", "terminationGracePeriodSeconds: 0", 1))
		}
		for i := 0; i < pods; i++ {
			d.waitPod(fmt.Sprintf("churn-%d", i), 60*time.Second, "runs", allRunning)
		}
		for i := 0; i < pods; i++ {
			d.removeManifest(fmt.Sprintf("churn-%d.yaml", i))
		}
		for i := 0; i < pods; i++ {
			d.waitGone(fmt.Sprintf("churn-%d", i), 60*time.Second)
		}
	}
	d.assertClean()
	d.eventually(20*time.Second, "the shims are gone", func() error {
		if n := countProcesses("containerd-shim"); n > shimsBefore {
			return fmt.Errorf("%d shims, %d before", n, shimsBefore)
		}
		if n := countProcesses("log-driver"); n > driversBefore {
			return fmt.Errorf("%d log drivers, %d before", n, driversBefore)
		}
		return nil
	})
	if rules := iptablesRulesOf(d.Network); len(rules) > 0 {
		t.Errorf("iptables rules left:\n%s", strings.Join(rules, "\n"))
	}
}

func countProcesses(name string) int {
	ents, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), name) {
			n++
		}
	}
	return n
}
