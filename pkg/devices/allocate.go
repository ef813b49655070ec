package devices

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Pool is what this node has of each extended resource: CDI devices
// (qualified names, vendor.com/class=name), or a count without devices.
type Pool struct {
	Devices map[v1.ResourceName][]string
	Counts  map[v1.ResourceName]int64
}

// Capacity is the pool as node capacity.
func (p Pool) Capacity() v1.ResourceList {
	out := v1.ResourceList{}
	for r, devs := range p.Devices {
		out[r] = *resource.NewQuantity(int64(len(devs)), resource.DecimalSI)
	}
	for r, n := range p.Counts {
		if _, ok := out[r]; !ok {
			out[r] = *resource.NewQuantity(n, resource.DecimalSI)
		}
	}
	return out
}

func (p Pool) capacityOf(r v1.ResourceName) int64 {
	if devs, ok := p.Devices[r]; ok {
		return int64(len(devs))
	}
	return p.Counts[r]
}

// Assignment is what one pod holds: per resource, the devices (or, for a
// counted resource, how many) its containers were given; per container,
// the CDI devices to inject.
type Assignment struct {
	Containers map[string][]string       `json:"containers,omitempty"`
	Held       map[v1.ResourceName]int64 `json:"held,omitempty"`
	Devices    []string                  `json:"devices,omitempty"`
}

// Refusal is why a pod does not fit, worded as the kubelet's
// InsufficientResourceError.
type Refusal struct {
	Resource                  v1.ResourceName
	Requested, Used, Capacity int64
}

// Reason is the kubelet's reason: OutOf<resource>.
func (r Refusal) Reason() string { return "OutOf" + string(r.Resource) }

func (r Refusal) Error() string {
	return fmt.Sprintf("Node didn't have enough resource: %s, requested: %d, used: %d, capacity: %d", r.Resource, r.Requested, r.Used, r.Capacity)
}

// IsExtended reports an extended resource: a domain-qualified name outside
// kubernetes.io (hugepages and the native resources are not).
func IsExtended(name v1.ResourceName) bool {
	n := string(name)
	if !strings.Contains(n, "/") {
		return false
	}
	return !strings.HasPrefix(n, "kubernetes.io/") && !strings.HasPrefix(n, "requests.")
}

// need is a container's count of each extended resource (its limit; for
// extended resources the request equals the limit).
func need(c *v1.Container) map[v1.ResourceName]int64 {
	out := map[v1.ResourceName]int64{}
	for _, list := range []v1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
		for r, q := range list {
			if IsExtended(r) && q.Value() > out[r] {
				out[r] = q.Value()
			}
		}
	}
	return out
}

// Allocate gives pod the extended resources it asks for, from what pool
// has and held (the assignments of the pods that run) does not. App
// containers get devices of their own; init containers, which run before
// them, take from the same devices, as the kubelet reuses them. A pod
// asking for nothing gets an empty Assignment.
func Allocate(pool Pool, held []Assignment, pod *v1.Pod) (Assignment, error) {
	total := map[v1.ResourceName]int64{}
	for i := range pod.Spec.Containers {
		for r, n := range need(&pod.Spec.Containers[i]) {
			total[r] += n
		}
	}
	for i := range pod.Spec.InitContainers {
		for r, n := range need(&pod.Spec.InitContainers[i]) {
			total[r] = max(total[r], n)
		}
	}
	a := Assignment{Containers: map[string][]string{}, Held: map[v1.ResourceName]int64{}}
	if len(total) == 0 {
		return a, nil
	}
	used := map[v1.ResourceName]int64{}
	taken := map[string]bool{}
	for _, h := range held {
		for r, n := range h.Held {
			used[r] += n
		}
		for _, d := range h.Devices {
			taken[d] = true
		}
	}
	names := make([]v1.ResourceName, 0, len(total))
	for r := range total {
		names = append(names, r)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	free := map[v1.ResourceName][]string{}
	for _, r := range names {
		capacity := pool.capacityOf(r)
		if used[r]+total[r] > capacity {
			return Assignment{}, Refusal{Resource: r, Requested: total[r], Used: used[r], Capacity: capacity}
		}
		a.Held[r] = total[r]
		for _, d := range pool.Devices[r] {
			if !taken[d] && int64(len(free[r])) < total[r] {
				free[r] = append(free[r], d)
			}
		}
		a.Devices = append(a.Devices, free[r]...)
	}
	// App containers take their devices one after the other; init
	// containers take from the front.
	next := map[v1.ResourceName]int{}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		for _, r := range names {
			n := int(need(c)[r])
			if devs := free[r]; n > 0 && len(devs) > 0 {
				a.Containers[c.Name] = append(a.Containers[c.Name], devs[next[r]:next[r]+n]...)
				next[r] += n
			}
		}
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		for _, r := range names {
			n := int(need(c)[r])
			if devs := free[r]; n > 0 && len(devs) > 0 {
				a.Containers[c.Name] = append(a.Containers[c.Name], devs[:n]...)
			}
		}
	}
	for k := range a.Containers {
		slices.Sort(a.Containers[k])
	}
	slices.Sort(a.Devices)
	return a, nil
}
