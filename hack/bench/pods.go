package main

import (
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/manifest"
)

// stopOnTerm is the command of the bench's app containers: it exits at once
// on SIGTERM (the trap runs as soon as the signal interrupts `wait`), so a
// graceful stop costs what the runtime needs and no grace-period wait. The
// sleep runs in the background: a foreground loop would wake up ten times
// a second in every container and load the machine.
const stopOnTerm = `trap "exit 0" TERM; sleep 1000000 & wait`

// podSpec says what a bench pod holds.
type podSpec struct {
	name       string
	containers int
	// liveness adds the liveness probe of the liveness figure: exec
	// `cat /tmp/ok` every second, failing once kills.
	liveness bool
	// livenessHTTP is the same with an httpGet probe of /ok on busybox
	// httpd, which the bench breaks by removing /www/ok.
	livenessHTTP bool
	// web runs busybox httpd in the first container and a second
	// container beside it; with probes, three probes run every second:
	// httpGet readiness and tcpSocket liveness on the web container, a
	// tcpSocket readiness on the other.
	web    bool
	probes bool
}

// manifestYAML renders the pod as a manifest file.
func (s podSpec) manifestYAML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  terminationGracePeriodSeconds: 30\n  containers:\n", s.name)
	switch {
	case s.web:
		web := `mkdir -p /www && echo ok > /www/index.html && httpd -p 8080 -h /www && ` + stopOnTerm
		fmt.Fprintf(&b, "  - name: web\n    image: %s\n    command: [\"sh\", \"-c\", %q]\n", busyboxImage, web)
		if s.probes {
			b.WriteString("    readinessProbe:\n      httpGet: {path: /index.html, port: 8080}\n      periodSeconds: 1\n")
			b.WriteString("    livenessProbe:\n      tcpSocket: {port: 8080}\n      periodSeconds: 1\n")
		}
		fmt.Fprintf(&b, "  - name: side\n    image: %s\n    command: [\"sh\", \"-c\", %q]\n", busyboxImage, stopOnTerm)
		if s.probes {
			b.WriteString("    readinessProbe:\n      tcpSocket: {port: 8080}\n      periodSeconds: 1\n")
		}
	case s.livenessHTTP:
		cmd := `mkdir -p /www && touch /www/ok && httpd -p 8080 -h /www; ` + stopOnTerm
		fmt.Fprintf(&b, "  - name: app\n    image: %s\n    command: [\"sh\", \"-c\", %q]\n", busyboxImage, cmd)
		b.WriteString("    livenessProbe:\n      httpGet: {path: /ok, port: 8080}\n      periodSeconds: 1\n      failureThreshold: 1\n")
	case s.liveness:
		cmd := `touch /tmp/ok; ` + stopOnTerm
		fmt.Fprintf(&b, "  - name: app\n    image: %s\n    command: [\"sh\", \"-c\", %q]\n", busyboxImage, cmd)
		b.WriteString("    livenessProbe:\n      exec: {command: [\"cat\", \"/tmp/ok\"]}\n      periodSeconds: 1\n      failureThreshold: 1\n")
	default:
		for i := 0; i < s.containers; i++ {
			fmt.Fprintf(&b, "  - name: app%d\n    image: %s\n    command: [\"sh\", \"-c\", %q]\n", i, busyboxImage, stopOnTerm)
		}
	}
	return b.String()
}

// benchFilePrefix starts the name of every manifest file the bench
// writes, so it never touches another file of the directory (-outside).
const benchFilePrefix = "bench-"

// file is the pod's manifest file name.
func (s podSpec) file() string { return benchFilePrefix + s.name + ".yaml" }

// count is the number of app containers.
func (s podSpec) count() int {
	if s.web {
		return 2
	}
	if s.liveness || s.livenessHTTP {
		return 1
	}
	return s.containers
}

// decodePod turns the manifest into the defaulted pod minilet would run,
// with minilet's own decoder, for the floor.
func decodePod(s podSpec, node string) (manifest.Pod, error) {
	path := "/bench/floor/" + s.name + ".yaml"
	pods, err := manifest.Decode(path, []byte(s.manifestYAML()), manifest.Options{NodeName: node})
	if err != nil {
		return manifest.Pod{}, err
	}
	if len(pods) != 1 {
		return manifest.Pod{}, fmt.Errorf("manifest of %s holds %d pods", s.name, len(pods))
	}
	return pods[0], nil
}

// appContainers are the pod's app containers in order.
func appContainers(p *v1.Pod) []*v1.Container {
	out := make([]*v1.Container, len(p.Spec.Containers))
	for i := range p.Spec.Containers {
		out[i] = &p.Spec.Containers[i]
	}
	return out
}
