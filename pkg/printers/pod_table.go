package printers

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// newTabWriter aligns columns like kubectl's table printer.
func newTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
}

// PrintPodTable writes pods as `kubectl get pods` does: NAME READY STATUS
// RESTARTS AGE, with NAMESPACE first for AllNamespaces, IP NODE
// NOMINATED NODE READINESS GATES for FormatWide, and LABELS for
// ShowLabels.
func PrintPodTable(w io.Writer, pods []v1.Pod, opts Options, now time.Time) error {
	tw := newTabWriter(w)
	if !opts.NoHeaders {
		var h []string
		if opts.AllNamespaces {
			h = append(h, "NAMESPACE")
		}
		h = append(h, "NAME", "READY", "STATUS", "RESTARTS", "AGE")
		if opts.Format == FormatWide {
			h = append(h, "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
		}
		if opts.ShowLabels {
			h = append(h, "LABELS")
		}
		fmt.Fprintln(tw, strings.Join(h, "\t"))
	}
	for i := range pods {
		fmt.Fprintln(tw, strings.Join(podRow(&pods[i], opts, now), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write pod table: %w", err)
	}
	return nil
}

func podRow(pod *v1.Pod, opts Options, now time.Time) []string {
	s := SummarizePod(pod)
	var row []string
	if opts.AllNamespaces {
		row = append(row, pod.Namespace)
	}
	row = append(row, opts.KindPrefix+pod.Name, s.ReadyColumn(), s.Status, s.RestartsColumn(now), Age(pod.CreationTimestamp, now))
	if opts.Format == FormatWide {
		ip := ""
		if len(pod.Status.PodIPs) > 0 {
			ip = pod.Status.PodIPs[0].IP
		}
		row = append(row, orNone(ip), orNone(pod.Spec.NodeName), orNone(pod.Status.NominatedNodeName), readinessGates(pod))
	}
	if opts.ShowLabels {
		row = append(row, labels.FormatLabels(pod.Labels))
	}
	return row
}

// readinessGates is the READINESS GATES column: how many of the pod's
// gates have a true condition, or <none>.
func readinessGates(pod *v1.Pod) string {
	if len(pod.Spec.ReadinessGates) == 0 {
		return "<none>"
	}
	n := 0
	for _, g := range pod.Spec.ReadinessGates {
		for _, c := range pod.Status.Conditions {
			if c.Type == g.ConditionType {
				if c.Status == v1.ConditionTrue {
					n++
				}
				break
			}
		}
	}
	return fmt.Sprintf("%d/%d", n, len(pod.Spec.ReadinessGates))
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
