package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation"
)

// InvalidPatchError is a patch of the node that cannot be applied; each
// problem names the field and what is wrong, as the API server's 422.
type InvalidPatchError struct{ Problems []string }

func (e *InvalidPatchError) Error() string {
	return "Node is invalid: " + strings.Join(e.Problems, "; ")
}

// Invalid marks the error as the client's (HTTP 422).
func (e *InvalidPatchError) Invalid() bool { return true }

// systemTaintPrefix marks the taints minilet derives from the node's
// state (cordon, conditions), as the node lifecycle controller does.
const systemTaintPrefix = "node.kubernetes.io/"

// ApplyPatch applies patch (a strategic merge or JSON merge patch, as
// kubectl label, taint and cordon send) to current, the node as minilet
// reports it, and returns the operator's spec that makes it so. flags are
// the --node-labels. Only metadata.labels, spec.taints and
// spec.unschedulable may change; built-in labels (hostname, os, arch) and
// node.kubernetes.io/ taints are minilet's own. NoExecute taints get
// timeAdded as the API server gives it.
func ApplyPatch(current v1.Node, flags map[string]string, patch []byte, now time.Time) (OperatorSpec, error) {
	orig, err := json.Marshal(current)
	if err != nil {
		return OperatorSpec{}, fmt.Errorf("encode the node: %w", err)
	}
	patched, err := strategicpatch.StrategicMergePatch(orig, patch, v1.Node{})
	if err != nil {
		return OperatorSpec{}, &InvalidPatchError{Problems: []string{"the patch does not apply: " + err.Error()}}
	}
	var next v1.Node
	dec := json.NewDecoder(bytes.NewReader(patched))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&next); err != nil {
		return OperatorSpec{}, &InvalidPatchError{Problems: []string{"the patched node does not decode: " + err.Error()}}
	}
	// Compared with current as JSON gives it back (times to the second).
	var base v1.Node
	if err := json.Unmarshal(orig, &base); err != nil {
		return OperatorSpec{}, fmt.Errorf("decode the node: %w", err)
	}
	var problems []string
	if !onlySpecChanged(base, next) {
		problems = append(problems, "only metadata.labels, spec.taints and spec.unschedulable of this node can be changed")
	}
	problems = append(problems, checkLabels(current, next.Labels)...)
	taints, tp := operatorTaints(current, next.Spec.Taints, now)
	problems = append(problems, tp...)
	if len(problems) > 0 {
		return OperatorSpec{}, &InvalidPatchError{Problems: problems}
	}
	return OperatorSpec{Cordoned: next.Spec.Unschedulable, Labels: labelChanges(current.Name, flags, next.Labels), Taints: taints}, nil
}

// onlySpecChanged: a and b differ at most in the fields the operator owns.
func onlySpecChanged(a, b v1.Node) bool {
	for _, n := range []*v1.Node{&a, &b} {
		n.Labels, n.Spec.Taints, n.Spec.Unschedulable = nil, nil, false
	}
	return equality.Semantic.DeepEqual(a, b)
}

// checkLabels: built-in labels unchanged, the others valid.
func checkLabels(current v1.Node, labels map[string]string) []string {
	var problems []string
	builtin := BuiltinLabels(current.Name)
	for _, k := range sortedKeys(builtin) {
		if labels[k] != current.Labels[k] {
			problems = append(problems, fmt.Sprintf("metadata.labels[%s]: Forbidden: minilet sets this label itself", k))
		}
	}
	for _, k := range sortedKeys(labels) {
		if _, ok := builtin[k]; ok {
			continue
		}
		for _, msg := range validation.IsQualifiedName(k) {
			problems = append(problems, fmt.Sprintf("metadata.labels: Invalid value: %q: %s", k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(labels[k]) {
			problems = append(problems, fmt.Sprintf("metadata.labels: Invalid value: %q: %s", labels[k], msg))
		}
	}
	return problems
}

// labelChanges are the operator's labels relative to the flags: set where
// they differ, nil where a flag label is gone.
func labelChanges(name string, flags, labels map[string]string) map[string]*string {
	builtin := BuiltinLabels(name)
	out := map[string]*string{}
	for k, v := range labels {
		if _, ok := builtin[k]; ok {
			continue
		}
		if fv, ok := flags[k]; !ok || fv != v {
			out[k] = &v
		}
	}
	for k := range flags {
		if _, ok := labels[k]; !ok {
			out[k] = nil
		}
	}
	return out
}

// operatorTaints takes the operator's taints out of the patched list:
// minilet's own (node.kubernetes.io/) must be as they were, the others
// valid and unique by key and effect.
func operatorTaints(current v1.Node, taints []v1.Taint, now time.Time) ([]v1.Taint, []string) {
	var problems, sysBefore, sysAfter []string
	for _, t := range current.Spec.Taints {
		if strings.HasPrefix(t.Key, systemTaintPrefix) {
			sysBefore = append(sysBefore, t.ToString())
		}
	}
	var out []v1.Taint
	seen := map[string]bool{}
	for i, t := range taints {
		path := fmt.Sprintf("spec.taints[%d]", i)
		if strings.HasPrefix(t.Key, systemTaintPrefix) {
			sysAfter = append(sysAfter, t.ToString())
			continue
		}
		for _, msg := range validation.IsQualifiedName(t.Key) {
			problems = append(problems, fmt.Sprintf("%s.key: Invalid value: %q: %s", path, t.Key, msg))
		}
		for _, msg := range validation.IsValidLabelValue(t.Value) {
			problems = append(problems, fmt.Sprintf("%s.value: Invalid value: %q: %s", path, t.Value, msg))
		}
		switch t.Effect {
		case v1.TaintEffectNoSchedule, v1.TaintEffectPreferNoSchedule, v1.TaintEffectNoExecute:
		case "":
			problems = append(problems, path+".effect: Required value")
		default:
			problems = append(problems, fmt.Sprintf("%s.effect: Unsupported value: %q: supported values: \"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\"", path, t.Effect))
		}
		id := t.Key + ":" + string(t.Effect)
		if seen[id] {
			problems = append(problems, fmt.Sprintf("%s: Duplicate value: taints must be unique by key and effect pair", path))
		}
		seen[id] = true
		if t.Effect == v1.TaintEffectNoExecute && t.TimeAdded == nil {
			added := metav1.NewTime(now)
			t.TimeAdded = &added
		}
		out = append(out, t)
	}
	sort.Strings(sysBefore)
	sort.Strings(sysAfter)
	if strings.Join(sysBefore, ",") != strings.Join(sysAfter, ",") {
		problems = append(problems, "spec.taints: Forbidden: taints under node.kubernetes.io/ are minilet's, from the node's state (use minilet cordon and uncordon)")
	}
	return out, problems
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
