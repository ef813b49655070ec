package integration

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
)

// TestExampleWorkloads runs examples/workloads as an operator would (with
// the test image): the Deployment's three pods ready, the StatefulSet's
// two, the DaemonSet's agent, the Job complete, the CronJob listed and a
// Job of it made by hand complete.
func TestExampleWorkloads(t *testing.T) {
	d := startDaemon(t)
	for _, f := range []string{"deployment", "statefulset", "daemonset", "job", "cronjob"} {
		b, err := os.ReadFile("../../examples/workloads/" + f + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		d.writeManifest(f+".yaml", strings.ReplaceAll(string(b), "localhost/minilet/busybox:1", BusyboxImage))
	}
	d.eventually(120*time.Second, "every example is up", func() error {
		for _, check := range []struct{ args, want string }{
			{"get deploy web", "3/3"},
			{"get sts db", "2/2"},
			{"get ds node-agent", "node-agent   1         1         1"},
			{"get jobs migrate", "Complete"},
			{"get cj cleanup", "*/5 * * * *"},
		} {
			out, err := d.cliErr(strings.Fields(check.args)...)
			if err != nil || !strings.Contains(out, check.want) {
				return fmt.Errorf("%s: %v\n%s", check.args, err, out)
			}
		}
		return nil
	})
	d.cli("create", "job", "now", "--from=cronjob/cleanup")
	d.eventually(60*time.Second, "the CronJob's Job completes", func() error {
		j, err := d.job("now")
		if err != nil {
			return err
		}
		if jobCondition(j, batchv1.JobComplete) == nil {
			return fmt.Errorf("status %+v", j.Status)
		}
		return nil
	})
}
