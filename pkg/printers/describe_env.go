package printers

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// podFieldValue resolves a downward-API field path of pod, as describe
// shows env values that come from fieldRef. Unknown paths resolve to "".
func podFieldValue(pod *v1.Pod, path string) string {
	if key, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[key]
	}
	if key, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[key]
	}
	switch path {
	case "metadata.name":
		return pod.Name
	case "metadata.namespace":
		return pod.Namespace
	case "metadata.uid":
		return string(pod.UID)
	case "metadata.labels":
		return formatMap(pod.Labels)
	case "metadata.annotations":
		return formatMap(pod.Annotations)
	case "spec.nodeName":
		return pod.Spec.NodeName
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName
	case "status.hostIP":
		return pod.Status.HostIP
	case "status.podIP":
		return pod.Status.PodIP
	case "status.hostIPs":
		ips := make([]string, 0, len(pod.Status.HostIPs))
		for _, ip := range pod.Status.HostIPs {
			ips = append(ips, ip.IP)
		}
		return strings.Join(ips, ",")
	case "status.podIPs":
		ips := make([]string, 0, len(pod.Status.PodIPs))
		for _, ip := range pod.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		return strings.Join(ips, ",")
	}
	return ""
}

// subscript splits `prefix['key']` into key.
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "']")
}

func formatMap(m map[string]string) string {
	lines := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		lines = append(lines, k+"="+strconv.Quote(m[k]))
	}
	return strings.Join(lines, "\n")
}

// containerResourceValue resolves a resourceFieldRef of c: the limit or
// request divided by the divisor, rounded up. An unset CPU or memory limit
// is the node's allocatable amount.
func containerResourceValue(c *v1.Container, ref *v1.ResourceFieldSelector) string {
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok {
		return ""
	}
	var list v1.ResourceList
	switch kind {
	case "limits":
		list = c.Resources.Limits
	case "requests":
		list = c.Resources.Requests
	default:
		return ""
	}
	q := list[v1.ResourceName(name)]
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	var v int64
	if name == string(v1.ResourceCPU) {
		v = int64(math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue())))
	} else {
		v = int64(math.Ceil(float64(q.Value()) / float64(divisor.Value())))
	}
	if v == 0 && (ref.Resource == "limits.cpu" || ref.Resource == "limits.memory") {
		return "node allocatable"
	}
	return fmt.Sprint(v)
}
