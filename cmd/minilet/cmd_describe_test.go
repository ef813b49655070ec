package main

import (
	"strings"
	"testing"
)

func TestDescribePod(t *testing.T) {
	dir := startCLITestDaemon(t, cliTestPods())

	out, _, err := runCLI(t, dir, "describe", "pod", "web")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Name:         web\n",
		"Namespace:    default\n",
		"Node:         node1/\n",
		"Containers:\n  app:\n",
		"    State:          Running\n",
		"Events:\n  Type    Reason   Age   From     Message\n",
		"  Normal  Started  60m   minilet  Started container app\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe pod web lacks %q:\n%s", want, out)
		}
	}

	// Flags after names, and the namespace flag.
	out, _, err = runCLI(t, dir, "describe", "po", "dns", "-n", "kube-system")
	if err != nil || !hasLine(out, "Namespace: kube-system") || !hasLine(out, "Events: <none>") {
		t.Errorf("describe po dns -n kube-system: %v\n%s", err, out)
	}

	// Every pod of the namespace, separated by blank lines.
	out, _, err = runCLI(t, dir, "describe", "pods")
	if err != nil || strings.Count(out, "\nNamespace:") != 2 || !strings.Contains(out, "\n\n\nName:") {
		t.Errorf("describe pods: %v\n%s", err, out)
	}

	// A name that matches no pod describes the pods it prefixes.
	out, _, err = runCLI(t, dir, "describe", "pods", "w")
	if err != nil || !strings.HasPrefix(out, "Name:         web\n") {
		t.Errorf("describe by prefix: %v\n%s", err, out)
	}

	_, _, err = runCLI(t, dir, "describe", "pod", "nope")
	if err == nil || err.Error() != `Error from server (NotFound): pods "nope" not found` {
		t.Errorf("describe missing pod: %v", err)
	}
	_, errOut, err := runCLI(t, dir, "describe", "pods", "-n", "empty")
	if err != nil || errOut != "No resources found in empty namespace.\n" {
		t.Errorf("describe in an empty namespace: %v %q", err, errOut)
	}
	// This test daemon has no node view: describe node reaches the API
	// and reports that.
	if _, _, err := runCLI(t, dir, "describe", "nodes"); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Errorf("describe nodes without a node view: %v", err)
	}
}

// hasLine tells whether out has a line whose whitespace-separated fields
// are those of want.
func hasLine(out, want string) bool {
	for _, row := range fields(out) {
		if strings.Join(row, " ") == want {
			return true
		}
	}
	return false
}
