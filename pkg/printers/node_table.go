package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Role labels kubectl reads the ROLES column from.
const (
	labelNodeRolePrefix = "node-role.kubernetes.io/"
	labelNodeRole       = "kubernetes.io/role"
)

// PrintNodes writes nodes in opts.Format, as `kubectl get nodes` does.
// opts.AllNamespaces does not apply: nodes have no namespace.
func PrintNodes(w io.Writer, nodes []v1.Node, opts Options, now time.Time) error {
	return printObjects(w, nodes, opts, "node", func(n *v1.Node) string { return n.Name }, typedNode,
		func() error { return PrintNodeTable(w, nodes, opts, now) })
}

func typedNode(n v1.Node) v1.Node {
	n.TypeMeta = metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}
	return n
}

// PrintNodeTable writes nodes as `kubectl get nodes`: NAME STATUS ROLES
// AGE VERSION, with INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION
// CONTAINER-RUNTIME for FormatWide, and LABELS for ShowLabels.
func PrintNodeTable(w io.Writer, nodes []v1.Node, opts Options, now time.Time) error {
	tw := newTabWriter(w)
	if !opts.NoHeaders {
		h := []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION"}
		if opts.Format == FormatWide {
			h = append(h, "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME")
		}
		if opts.ShowLabels {
			h = append(h, "LABELS")
		}
		fmt.Fprintln(tw, strings.Join(h, "\t"))
	}
	for i := range nodes {
		fmt.Fprintln(tw, strings.Join(nodeRow(&nodes[i], opts, now), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write node table: %w", err)
	}
	return nil
}

func nodeRow(n *v1.Node, opts Options, now time.Time) []string {
	row := []string{n.Name, NodeStatus(n), NodeRoles(n), Age(n.CreationTimestamp, now), n.Status.NodeInfo.KubeletVersion}
	if opts.Format == FormatWide {
		ni := n.Status.NodeInfo
		row = append(row, nodeAddress(n, v1.NodeInternalIP), nodeAddress(n, v1.NodeExternalIP),
			orUnknown(ni.OSImage), orUnknown(ni.KernelVersion), orUnknown(ni.ContainerRuntimeVersion))
	}
	if opts.ShowLabels {
		row = append(row, labels.FormatLabels(n.Labels))
	}
	return row
}

// NodeStatus is the STATUS column: Ready, NotReady (the Ready condition
// is False or Unknown) or Unknown (no Ready condition), with
// ",SchedulingDisabled" when the node is cordoned.
func NodeStatus(n *v1.Node) string {
	status := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type == v1.NodeReady {
			if c.Status == v1.ConditionTrue {
				status = "Ready"
			} else {
				status = "NotReady"
			}
			break
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

// NodeRoles is the ROLES column: the roles of node-role.kubernetes.io/<role>
// labels and of the kubernetes.io/role label, sorted, or <none>.
func NodeRoles(n *v1.Node) string {
	set := map[string]bool{}
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, labelNodeRolePrefix):
			if role := strings.TrimPrefix(k, labelNodeRolePrefix); role != "" {
				set[role] = true
			}
		case k == labelNodeRole && v != "":
			set[v] = true
		}
	}
	if len(set) == 0 {
		return "<none>"
	}
	roles := make([]string, 0, len(set))
	for r := range set {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return strings.Join(roles, ",")
}

// nodeAddress is the node's first address of type t, or <none>.
func nodeAddress(n *v1.Node, t v1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}
