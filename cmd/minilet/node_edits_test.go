package main

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
)

func TestLabelPatch(t *testing.T) {
	labels := map[string]string{"disk": "hdd", "zone": "a"}
	for _, tc := range []struct {
		args      []string
		overwrite bool
		patch     string
		verb      string
		err       string
	}{
		{[]string{"gpu=true"}, false, `{"metadata":{"labels":{"gpu":"true"}}}`, "labeled", ""},
		{[]string{"disk=ssd"}, false, "", "", "'disk' already has a value (hdd), and --overwrite is false"},
		{[]string{"disk=ssd"}, true, `{"metadata":{"labels":{"disk":"ssd"}}}`, "labeled", ""},
		{[]string{"zone-"}, false, `{"metadata":{"labels":{"zone":null}}}`, "unlabeled", ""},
		{[]string{"disk=hdd"}, false, "", "not labeled", ""},
		{[]string{"nope-"}, false, "", "not labeled", ""},
	} {
		edits, err := parseLabelEdits(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		patch, verb, _, err := labelPatch(labels, edits, tc.overwrite)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%v: err %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || string(patch) != tc.patch || verb != tc.verb {
			t.Errorf("%v: %s %q %v, want %s %q", tc.args, patch, verb, err, tc.patch, tc.verb)
		}
	}
	if _, err := parseLabelEdits([]string{"justakey"}); err == nil {
		t.Error("a label without = or - accepted")
	}
}

func TestTaintPatch(t *testing.T) {
	node := &v1.Node{Spec: v1.NodeSpec{Taints: []v1.Taint{
		{Key: "node.kubernetes.io/unschedulable", Effect: v1.TaintEffectNoSchedule},
		{Key: "dedicated", Value: "ml", Effect: v1.TaintEffectNoSchedule},
		{Key: "dedicated", Value: "ml", Effect: v1.TaintEffectNoExecute},
	}}}
	node.Name = "n1"
	for _, tc := range []struct {
		args      []string
		overwrite bool
		keys      string // key:effect of the patched list
		verb      string
		err       string
	}{
		{[]string{"gpu=yes:NoSchedule"}, false, "node.kubernetes.io/unschedulable:NoSchedule,dedicated:NoSchedule,dedicated:NoExecute,gpu:NoSchedule", "tainted", ""},
		{[]string{"dedicated:NoSchedule-"}, false, "node.kubernetes.io/unschedulable:NoSchedule,dedicated:NoExecute", "untainted", ""},
		{[]string{"dedicated-"}, false, "node.kubernetes.io/unschedulable:NoSchedule", "untainted", ""},
		{[]string{"dedicated=web:NoSchedule"}, false, "", "", "node n1 already has dedicated taint(s) with same effect(s) and --overwrite is false"},
		{[]string{"dedicated=web:NoSchedule"}, true, "node.kubernetes.io/unschedulable:NoSchedule,dedicated:NoSchedule,dedicated:NoExecute", "modified", ""},
		{[]string{"gpu:NoSchedule-"}, false, "", "", `taint "gpu:NoSchedule" not found`},
	} {
		edits, err := parseTaintEdits(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		patch, verb, err := taintPatch(node, edits, tc.overwrite)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%v: err %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		var keys []string
		for _, part := range strings.Split(string(patch), `"key":"`)[1:] {
			k, _, _ := strings.Cut(part, `"`)
			_, rest, _ := strings.Cut(part, `"effect":"`)
			e, _, _ := strings.Cut(rest, `"`)
			keys = append(keys, k+":"+e)
		}
		if err != nil || strings.Join(keys, ",") != tc.keys || verb != tc.verb {
			t.Errorf("%v: %s %q %v, want %s %q", tc.args, strings.Join(keys, ","), verb, err, tc.keys, tc.verb)
		}
	}
	for _, bad := range []string{"gpu", "gpu=yes", "gpu:Never", "gpu=x:NoSchedule-"} {
		if _, err := parseTaintEdits([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
