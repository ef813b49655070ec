package integration

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// conformanceShort are the upstream [NodeConformance] tests CI runs on
// every change (about a minute and a half); MINILET_CONFORMANCE=all (make
// conformance) runs conformanceAll.
var conformanceShort = []string{
	`Pods should get a host IP`,
	`InitContainer \[NodeConformance\] should invoke init containers on a RestartNever pod`,
	`Container Runtime blackbox test on terminated container should report termination message from file when pod succeeds and TerminationMessagePolicy FallbackToLogsOnError is set`,
	`ConfigMap should be consumable from pods in volume \[NodeConformance\]`,
	`Pods should support remote command execution over websockets`,
	`Container Runtime blackbox test on terminated container should report termination message from log output if TerminationMessagePolicy FallbackToLogsOnError is set`,
	`\[sig-node\] Container Lifecycle Hook when create a pod with lifecycle hook should execute poststart http hook properly`,
}

// conformanceAll is the chosen list: probes, restart policies, init
// containers, ConfigMap/Secret/downward API volumes and env, lifecycle,
// logs and exec through the kubelet API, pods.
var conformanceAll = append(append([]string(nil), conformanceShort...),
	`Pods should be submitted and removed`,
	`Pods should be updated`,
	`Pods should allow activeDeadlineSeconds to be updated`,
	`Pods should support retrieving logs from the container over websockets`,
	`InitContainer \[NodeConformance\] should invoke init containers on a RestartAlways pod`,
	`InitContainer \[NodeConformance\] should not start app containers if init containers fail on a RestartAlways pod`,
	`InitContainer \[NodeConformance\] should not start app containers and fail the pod if init containers fail on a RestartNever pod`,
	`Container Runtime blackbox test on terminated container should report termination message if TerminationMessagePath is set`,
	`Container Runtime blackbox test on terminated container should report termination message as empty when pod succeeds`,
	`Container Runtime blackbox test when starting a container that exits should run with the expected status`,
	`Kubelet when scheduling a busybox command in a pod should print the output to logs`,
	`Kubelet when scheduling a busybox command that always fails in a pod should have an terminated reason`,
	`Kubelet when scheduling a read only busybox container should not write to root filesystem`,
	`Downward API should provide pod name, namespace and IP address as env vars`,
	`Downward API should provide container's limits.cpu/memory and requests.cpu/memory as env vars`,
	`Variable Expansion should allow composing env vars into new env vars`,
	`Variable Expansion should allow substituting values in a container's command`,
	`ConfigMap should be consumable from pods in volume with mappings \[NodeConformance\]`,
	`ConfigMap should be consumable via environment variable`,
	`Secrets should be consumable from pods in volume \[NodeConformance\]`,
	`Secrets should be consumable from pods in env vars`,
	`Downward API volume should provide podname only`,
	`Downward API volume should update labels on modification`,
	`EmptyDir volumes should support \(root,0644,tmpfs\)`,
	`EmptyDir volumes volume on default medium should have the correct mode`,
	`Probing container should be restarted with a exec "cat /tmp/health" liveness probe`,
	`Probing container with readiness probe should not be ready before initial delay and never restart`,
	`Security Context When creating a container with runAsUser should run the container with uid 65534`,
	`\[sig-node\] Container Lifecycle Hook when create a pod with lifecycle hook should execute (poststart|prestop) (exec|http|https) hook properly`,
	`Security Context When creating a pod with readOnlyRootFilesystem should run the container with writable rootfs when readOnlyRootFilesystem=false`,
)

// Left out of the list: tests whose pods run agnhost modes minilet's test
// image does not have (the image entrypoint tester), tests of image pulls from registries (no network
// here) and [Slow] ones (minutes each).

// e2eRegistry is where the e2e suite's images are looked for
// (KUBE_TEST_REPO_LIST): the test's busybox, agnhost and pause, tagged
// with the names and versions the suite asks for.
const e2eRegistry = "localhost/minilet-e2e"

// TestConformance runs upstream Kubernetes e2e tests (the e2e.test binary
// built from the same module as the control plane) against a cluster
// whose only node is minilet, and prints pass or fail per test. Every
// test of the list must pass.
func TestConformance(t *testing.T) {
	p := needPlane(t)
	e2e := filepath.Join(kubeBinDir(), "e2e.test")
	if _, err := os.Stat(e2e); err != nil {
		t.Fatalf("e2e.test is not built (hack/controlplane/build.sh): %v", err)
	}
	list := conformanceShort
	switch v := os.Getenv("MINILET_CONFORMANCE"); v {
	case "", "short":
	case "all":
		list = conformanceAll
	default:
		list = []string{v} // one pattern, to look into a failure
	}
	name := takeNodeName(t)
	d := startClusterDaemon(t, p, name)
	d.importAgnhost()
	for src, dst := range map[string]string{
		BusyboxImage:                   e2eRegistry + "/busybox:1.37.0-1",
		AgnhostImage:                   e2eRegistry + "/agnhost:2.56",
		"localhost/minilet/pause:test": e2eRegistry + "/pause:3.10.1",
	} {
		if src == "localhost/minilet/pause:test" {
			out, _ := env.containerd.ctr(context.Background(), d.Namespace, "images", "ls", "-q")
			for _, img := range strings.Fields(out) {
				if strings.HasPrefix(img, "localhost/minilet/pause:") {
					src = img
				}
			}
		}
		if out, err := env.containerd.ctr(context.Background(), d.Namespace, "images", "tag", "--force", src, dst); err != nil {
			t.Fatalf("tag %s as %s: %v %s", src, dst, err, out)
		}
	}
	waitNode(t, p, name, 60*time.Second, "Ready and untainted", func(n *v1.Node) error {
		if err := nodeReadyIs(v1.ConditionTrue)(n); err != nil {
			return err
		}
		if len(n.Spec.Taints) > 0 {
			return fmt.Errorf("taints %v", n.Spec.Taints)
		}
		return nil
	})

	dir := t.TempDir()
	repoList := filepath.Join(dir, "repo-list.yaml")
	regs := []string{"gcAuthenticatedRegistry", "promoterE2eRegistry", "buildImageRegistry", "gcEtcdRegistry", "gcRegistry", "sigStorageRegistry", "privateRegistry", "dockerLibraryRegistry", "cloudProviderGcpRegistry"}
	var yml strings.Builder
	for _, r := range regs {
		fmt.Fprintf(&yml, "%s: %s\n", r, e2eRegistry)
	}
	yml.WriteString("invalidRegistry: invalid.registry.k8s.io/invalid\n")
	if err := os.WriteFile(repoList, []byte(yml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	focus := "(" + strings.Join(list, "|") + ")"
	reportDir := filepath.Join(dir, "report")
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2e, "--kubeconfig="+p.AdminKubeconfig, "--provider=skeleton",
		"--ginkgo.focus="+focus, "--ginkgo.skip=\\[Serial\\]|\\[Disruptive\\]|\\[Flaky\\]|Windows",
		"--ginkgo.no-color", "--report-dir="+reportDir, "--allowed-not-ready-nodes=0",
		"--non-blocking-taints=node-role.kubernetes.io/control-plane", "--disable-log-dump")
	cmd.Env = append(os.Environ(), "KUBE_TEST_REPO_LIST="+repoList, "KUBECONFIG="+p.AdminKubeconfig)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	runErr := cmd.Run()
	results, err := readJUnit(reportDir)
	if err != nil {
		t.Fatalf("e2e.test: %v (%v)\n%s", err, runErr, tail(out.String(), 80))
	}
	passed, failed := 0, 0
	var lines []string
	for _, r := range results {
		switch {
		case r.skipped:
			continue
		case r.failure != "":
			failed++
			lines = append(lines, "FAIL  "+r.name+"\n      "+firstLine(r.failure))
		default:
			passed++
			lines = append(lines, "pass  "+r.name)
		}
	}
	sort.Strings(lines)
	t.Logf("upstream e2e on a minilet node: %d passed, %d failed, in %s\n%s", passed, failed, time.Since(start).Round(time.Second), strings.Join(lines, "\n"))
	if failed > 0 || passed == 0 {
		n := 120
		if len(list) == 1 {
			n = 100000
		}
		t.Errorf("e2e tests failed (%v)\n%s", runErr, tail(out.String(), n))
	}
	for _, pattern := range list {
		re := regexp.MustCompile(pattern)
		ran := false
		for _, r := range results {
			if !r.skipped && re.MatchString(r.name) {
				ran = true
			}
		}
		if !ran {
			t.Errorf("no e2e test matched %q", pattern)
		}
	}
}

// junitCase is one test of the e2e suite's JUnit report.
type junitCase struct {
	name, failure string
	skipped       bool
}

func readJUnit(dir string) ([]junitCase, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "junit*.xml"))
	if len(files) == 0 {
		return nil, fmt.Errorf("no JUnit report in %s", dir)
	}
	var out []junitCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var suites struct {
			Suites []struct {
				Cases []struct {
					Name    string `xml:"name,attr"`
					Failure *struct {
						Message string `xml:"message,attr"`
						Text    string `xml:",chardata"`
					} `xml:"failure"`
					Error *struct {
						Message string `xml:"message,attr"`
					} `xml:"error"`
					Skipped *struct{} `xml:"skipped"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal(b, &suites); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, s := range suites.Suites {
			for _, c := range s.Cases {
				jc := junitCase{name: c.Name, skipped: c.Skipped != nil}
				if c.Failure != nil {
					jc.failure = c.Failure.Message + " " + c.Failure.Text
				} else if c.Error != nil {
					jc.failure = c.Error.Message
				}
				if !strings.HasPrefix(jc.name, "[It]") && jc.failure == "" {
					continue // the suite's set-up and reports, when they pass
				}
				out = append(out, jc)
			}
		}
	}
	return out, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
