package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"
)

// DescribeNode writes node as `kubectl describe node` does: metadata,
// taints, conditions, addresses, capacity and allocatable, system info,
// the pods that have not terminated with their requests and limits, and
// the resources they take together. events, when not nil, are shown in an
// Events table.
func DescribeNode(w io.Writer, node *v1.Node, pods []v1.Pod, events *v1.EventList, now time.Time) error {
	pw := newPrefixWriter(tabwriter.NewWriter(w, 0, 8, 2, ' ', 0))
	pw.write(level0, "Name:\t%s\n", node.Name)
	pw.write(level0, "Roles:\t%s\n", NodeRoles(node))
	writeLabels(pw, "Labels", node.Labels)
	writeAnnotations(pw, "Annotations", node.Annotations)
	pw.write(level0, "CreationTimestamp:\t%s\n", node.CreationTimestamp.Time.Format(time.RFC1123Z))
	writeTaints(pw, node.Spec.Taints)
	pw.write(level0, "Unschedulable:\t%v\n", node.Spec.Unschedulable)
	describeNodeConditions(pw, node.Status.Conditions)
	pw.write(level0, "Addresses:\n")
	for _, a := range node.Status.Addresses {
		pw.write(level1, "%s:\t%s\n", a.Type, a.Address)
	}
	writeResourceList(pw, "Capacity", node.Status.Capacity)
	writeResourceList(pw, "Allocatable", node.Status.Allocatable)
	ni := node.Status.NodeInfo
	pw.write(level0, "System Info:\n")
	for _, f := range [][2]string{
		{"Machine ID", ni.MachineID},
		{"System UUID", ni.SystemUUID},
		{"Boot ID", ni.BootID},
		{"Kernel Version", ni.KernelVersion},
		{"OS Image", ni.OSImage},
		{"Operating System", ni.OperatingSystem},
		{"Architecture", ni.Architecture},
		{"Container Runtime Version", ni.ContainerRuntimeVersion},
		{"Kubelet Version", ni.KubeletVersion},
	} {
		pw.write(level1, "%s:\t%s\n", f[0], f[1])
	}
	if node.Spec.PodCIDR != "" {
		pw.write(level0, "PodCIDR:\t%s\n", node.Spec.PodCIDR)
	}
	if len(node.Spec.PodCIDRs) > 0 {
		pw.write(level0, "PodCIDRs:\t%s\n", strings.Join(node.Spec.PodCIDRs, ","))
	}
	describeNodePods(pw, node, pods, now)
	if events != nil {
		describeEvents(pw, events.Items, now)
	}
	pw.flush()
	if pw.err != nil {
		return fmt.Errorf("describe node %s: %w", node.Name, pw.err)
	}
	return nil
}

// writeTaints writes taints as key=value:Effect, one a line.
func writeTaints(pw *prefixWriter, taints []v1.Taint) {
	pw.write(level0, "Taints:\t")
	if len(taints) == 0 {
		pw.write(level0, "<none>\n")
		return
	}
	for i, t := range taints {
		if i != 0 {
			pw.write(level0, "\t")
		}
		pw.write(level0, "%s\n", t.ToString())
	}
}

func describeNodeConditions(pw *prefixWriter, conds []v1.NodeCondition) {
	if len(conds) == 0 {
		pw.write(level0, "Conditions:\t<none>\n")
		return
	}
	pw.write(level0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
	pw.write(level1, "----\t------\t-----------------\t------------------\t------\t-------\n")
	for _, c := range conds {
		pw.write(level1, "%v \t%v \t%s \t%s \t%v \t%v\n", c.Type, c.Status,
			c.LastHeartbeatTime.Time.Format(time.RFC1123Z), c.LastTransitionTime.Time.Format(time.RFC1123Z), c.Reason, c.Message)
	}
}

func writeResourceList(pw *prefixWriter, title string, rl v1.ResourceList) {
	pw.write(level0, "%s:\n", title)
	names := make([]string, 0, len(rl))
	for n := range rl {
		names = append(names, string(n))
	}
	sort.Strings(names)
	for _, n := range names {
		q := rl[v1.ResourceName(n)]
		pw.write(level1, "%s:\t%s\n", n, q.String())
	}
}

// describeNodePods writes the Non-terminated Pods table and the
// Allocated resources summary, with percentages of allocatable.
func describeNodePods(pw *prefixWriter, node *v1.Node, pods []v1.Pod, now time.Time) {
	var running []v1.Pod
	for _, p := range pods {
		if p.Status.Phase != v1.PodSucceeded && p.Status.Phase != v1.PodFailed {
			running = append(running, p)
		}
	}
	alloc := node.Status.Allocatable
	if len(alloc) == 0 {
		alloc = node.Status.Capacity
	}
	pw.write(level0, "Non-terminated Pods:\t(%d in total)\n", len(running))
	pw.write(level1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
	pw.write(level1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
	totalReq, totalLim := v1.ResourceList{}, v1.ResourceList{}
	for i := range running {
		p := &running[i]
		req := resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{})
		lim := resourcehelper.PodLimits(p, resourcehelper.PodResourcesOptions{})
		addResources(totalReq, req)
		addResources(totalLim, lim)
		pw.write(level1, "%s\t%s\t\t%s\t%s\t%s\t%s\t%s\n", p.Namespace, p.Name,
			withPercent(req, alloc, v1.ResourceCPU), withPercent(lim, alloc, v1.ResourceCPU),
			withPercent(req, alloc, v1.ResourceMemory), withPercent(lim, alloc, v1.ResourceMemory),
			Age(p.CreationTimestamp, now))
	}
	pw.write(level0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
	pw.write(level1, "Resource\tRequests\tLimits\n")
	pw.write(level1, "--------\t--------\t------\n")
	for _, r := range []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory, v1.ResourceEphemeralStorage} {
		pw.write(level1, "%s\t%s\t%s\n", r, withPercent(totalReq, alloc, r), withPercent(totalLim, alloc, r))
	}
}

func addResources(total, add v1.ResourceList) {
	for name, q := range add {
		t := total[name]
		t.Add(q)
		total[name] = t
	}
}

// withPercent is "100m (2%)": the amount of r in rl and its share of
// allocatable.
func withPercent(rl, allocatable v1.ResourceList, r v1.ResourceName) string {
	q := rl[r]
	a := allocatable[r]
	pct := int64(0)
	if r == v1.ResourceCPU {
		if a.MilliValue() != 0 {
			pct = int64(float64(q.MilliValue()) / float64(a.MilliValue()) * 100)
		}
	} else if a.Value() != 0 {
		pct = int64(float64(q.Value()) / float64(a.Value()) * 100)
	}
	if q.IsZero() {
		q = *resource.NewQuantity(0, resource.DecimalSI)
	}
	return fmt.Sprintf("%s (%d%%)", q.String(), pct)
}
