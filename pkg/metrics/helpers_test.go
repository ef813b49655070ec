package metrics

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"
)

// podList is a PodLister over a fixed slice.
type podList []v1.Pod

func (l podList) Pods() []v1.Pod { return l }

// newTest makes a Metrics on a fresh registry.
func newTest(t *testing.T, pods PodLister) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := RegisterPods(reg, "v1.2.3", pods); err != nil {
		t.Fatalf("RegisterPods: %v", err)
	}
	return m, reg
}

// histogram renders the exposition lines of one histogram series with the
// given labels ("" for none) and observations, for GatherAndCompare.
func histogram(name, labels string, bounds []float64, obs ...float64) string {
	var b strings.Builder
	sep := ""
	if labels != "" {
		sep = ","
	}
	sum := 0.0
	for _, o := range obs {
		sum += o
	}
	for _, ub := range bounds {
		n := 0
		for _, o := range obs {
			if o <= ub {
				n++
			}
		}
		fmt.Fprintf(&b, "%s_bucket{%s%sle=%q} %d\n", name, labels, sep, strconv.FormatFloat(ub, 'g', -1, 64), n)
	}
	fmt.Fprintf(&b, "%s_bucket{%s%sle=\"+Inf\"} %d\n", name, labels, sep, len(obs))
	if labels != "" {
		fmt.Fprintf(&b, "%s_sum{%s} %s\n%s_count{%s} %d\n", name, labels, strconv.FormatFloat(sum, 'g', -1, 64), name, labels, len(obs))
	} else {
		fmt.Fprintf(&b, "%s_sum %s\n%s_count %d\n", name, strconv.FormatFloat(sum, 'g', -1, 64), name, len(obs))
	}
	return b.String()
}

// prometheusRegistry makes a registry with minilet's collectors.
func prometheusRegistry(t *testing.T) *prometheus.Registry {
	t.Helper()
	_, reg := newTest(t, nil)
	return reg
}
