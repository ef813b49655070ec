package manifest

import (
	"strings"
	"testing"
)

const deploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: nginx}]
`

// TestDecodeWorkloads: a Deployment and a Job decode with the API
// server's defaults.
func TestDecodeWorkloads(t *testing.T) {
	d, err := decodeFile(testFile, []byte(deploymentYAML+"---\n"+`apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: app, image: busybox}]
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.workloads) != 2 {
		t.Fatalf("%d workloads", len(d.workloads))
	}
	dep := d.workloads[0].Deployment
	ru := dep.Spec.Strategy.RollingUpdate
	if dep.Namespace != "default" || *dep.Spec.RevisionHistoryLimit != 10 || *dep.Spec.ProgressDeadlineSeconds != 600 ||
		ru.MaxSurge.String() != "25%" || ru.MaxUnavailable.String() != "25%" ||
		dep.Spec.Template.Spec.Containers[0].TerminationMessagePath != "/dev/termination-log" {
		t.Errorf("deployment defaults: %+v", dep.Spec)
	}
	job := d.workloads[1].Job
	if *job.Spec.BackoffLimit != 6 || *job.Spec.Completions != 1 || *job.Spec.Parallelism != 1 || string(*job.Spec.CompletionMode) != "NonIndexed" {
		t.Errorf("job defaults: %+v", job.Spec)
	}
	if d.workloads[0].Key() != "Deployment default/web" || d.workloads[1].Key() != "Job default/once" {
		t.Errorf("keys %s, %s", d.workloads[0].Key(), d.workloads[1].Key())
	}
}

// TestDecodeWorkloadErrors: what the API server refuses, with the field.
func TestDecodeWorkloadErrors(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"selector mismatch", strings.Replace(deploymentYAML, "matchLabels: {app: web}", "matchLabels: {app: db}", 1),
			"spec.template.metadata.labels: Invalid value"},
		{"no selector", strings.Replace(deploymentYAML, "  selector: {matchLabels: {app: web}}\n", "", 1), "spec.selector: Required value"},
		{"restart policy", strings.Replace(deploymentYAML, "    spec:\n", "    spec:\n      restartPolicy: Never\n", 1),
			`spec.template.spec.restartPolicy: Unsupported value: "Never"`},
		{"both zero", strings.Replace(deploymentYAML, "  replicas: 2\n", "  replicas: 2\n  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}\n", 1),
			"may not be 0 when `maxSurge` is 0"},
		{"template field", strings.Replace(deploymentYAML, "image: nginx", "image: nginx, imagePullPolice: Always", 1),
			"spec.template.spec.containers[0].imagePullPolice: unknown field"},
		{"job restart policy", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: b}]\n",
			`spec.template.spec.restartPolicy: Unsupported value: "Always"`},
		{"job selector", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: a, image: b}]\n",
			"`selector` will be auto-generated"},
		{"wrong group", strings.Replace(deploymentYAML, "apps/v1", "v1", 1), `apiVersion: "v1" is not supported for kind Deployment: write "apps/v1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeFile(testFile, []byte(tc.doc), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
