package node

import (
	"errors"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
)

func TestApplyPatch(t *testing.T) {
	flags := map[string]string{"disk": "hdd", "zone": "a"}
	info := Info{Name: "node1", Labels: flags}
	// A real node's times have nanoseconds; its JSON has seconds.
	cordoned := Build(info, healthyHost(), OperatorSpec{Cordoned: true, Taints: []v1.Taint{{Key: "old", Effect: v1.TaintEffectNoSchedule}}}, testNow.Add(123456789))
	for _, tc := range []struct {
		name  string
		patch string
		check func(t *testing.T, s OperatorSpec)
		want  string // a problem, for a refused patch
	}{
		{"add a label, overwrite a flag label, remove another (kubectl label)",
			`{"metadata":{"labels":{"gpu":"true","disk":"ssd","zone":null}}}`,
			func(t *testing.T, s OperatorSpec) {
				if len(s.Labels) != 3 || *s.Labels["gpu"] != "true" || *s.Labels["disk"] != "ssd" || s.Labels["zone"] != nil {
					t.Errorf("labels %v", s.Labels)
				}
				if !s.Cordoned || len(s.Taints) != 1 || s.Taints[0].Key != "old" {
					t.Errorf("the rest changed: %+v", s)
				}
			}, ""},
		{"taints replaced as a list (kubectl taint): system taints kept as they are",
			`{"spec":{"taints":[{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"},{"key":"maint","value":"yes","effect":"NoExecute"}]}}`,
			func(t *testing.T, s OperatorSpec) {
				if len(s.Taints) != 1 || s.Taints[0].Key != "maint" || s.Taints[0].TimeAdded == nil {
					t.Errorf("taints %+v, want maint with timeAdded", s.Taints)
				}
			}, ""},
		{"uncordon through the patch (kubectl uncordon)", `{"spec":{"unschedulable":null}}`,
			func(t *testing.T, s OperatorSpec) {
				if s.Cordoned {
					t.Error("still cordoned")
				}
			}, ""},
		{"a built-in label", `{"metadata":{"labels":{"kubernetes.io/hostname":"other"}}}`, nil,
			"metadata.labels[kubernetes.io/hostname]: Forbidden: minilet sets this label itself"},
		{"an invalid label key", `{"metadata":{"labels":{"bad key":"x"}}}`, nil, `metadata.labels: Invalid value: "bad key"`},
		{"a bad effect", `{"spec":{"taints":[{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"},{"key":"a","effect":"Never"}]}}`, nil,
			`spec.taints[1].effect: Unsupported value: "Never"`},
		{"a duplicate taint", `{"spec":{"taints":[{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"},{"key":"a","effect":"NoSchedule"},{"key":"a","value":"2","effect":"NoSchedule"}]}}`, nil,
			"spec.taints[2]: Duplicate value"},
		{"a system taint removed", `{"spec":{"taints":[]}}`, nil, "taints under node.kubernetes.io/ are minilet's"},
		{"another field", `{"spec":{"podCIDR":"10.9.0.0/24"}}`, nil, "only metadata.labels, spec.taints and spec.unschedulable"},
		{"an unknown field", `{"spec":{"taintz":[]}}`, nil, `unknown field "taintz"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ApplyPatch(cordoned, flags, []byte(tc.patch), testNow)
			if tc.want != "" {
				var inv *InvalidPatchError
				if !errors.As(err, &inv) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err %v, want an InvalidPatchError with %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
			// The spec builds the node the patch asked for.
			n := Build(info, HostStats{}, s, testNow)
			if s.Labels["gpu"] != nil && n.Labels["gpu"] != "true" {
				t.Errorf("built labels %v", n.Labels)
			}
		})
	}
}
