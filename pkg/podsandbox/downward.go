package podsandbox

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// FieldValue resolves a downward-API field path of pod (fieldRef), with
// the pod's IPs and the node's as they are known now. The whole of
// metadata.labels or metadata.annotations is one key="value" line each,
// sorted, as the kubelet writes them into downwardAPI volumes. Unknown
// paths resolve to "".
func FieldValue(pod *v1.Pod, path string, podIPs, hostIPs []string) string {
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
	case "status.podIP":
		if len(podIPs) > 0 {
			return podIPs[0]
		}
		return ""
	case "status.podIPs":
		return strings.Join(podIPs, ",")
	case "status.hostIP":
		if len(hostIPs) > 0 {
			return hostIPs[0]
		}
		return ""
	case "status.hostIPs":
		return strings.Join(hostIPs, ",")
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
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, 0, len(m))
	for _, k := range keys {
		lines = append(lines, k+"="+strconv.Quote(m[k]))
	}
	return strings.Join(lines, "\n")
}

// ResourceValue resolves a resourceFieldRef of c: the limit or request
// divided by the divisor, rounded up. An unset CPU or memory limit is the
// node's allocatable amount, which the caller knows: ResourceValue then
// returns "" and ok false.
func ResourceValue(c *v1.Container, ref *v1.ResourceFieldSelector) (value string, ok bool) {
	kind, name, found := strings.Cut(ref.Resource, ".")
	if !found {
		return "", true
	}
	var list v1.ResourceList
	switch kind {
	case "limits":
		list = c.Resources.Limits
	case "requests":
		list = c.Resources.Requests
	default:
		return "", true
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
		return "", false
	}
	return fmt.Sprint(v), true
}

// ResourceValueOn is ResourceValue with a CPU or memory limit c does not
// set taken from the node's allocatable amount, as the kubelet does.
func ResourceValueOn(c *v1.Container, ref *v1.ResourceFieldSelector, allocatable v1.ResourceList) string {
	if v, ok := ResourceValue(c, ref); ok {
		return v
	}
	filled := c.DeepCopy()
	if filled.Resources.Limits == nil {
		filled.Resources.Limits = v1.ResourceList{}
	}
	for _, r := range []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory} {
		if _, set := filled.Resources.Limits[r]; !set {
			if q, ok := allocatable[r]; ok {
				filled.Resources.Limits[r] = q
			}
		}
	}
	v, _ := ResourceValue(filled, ref)
	return v
}
