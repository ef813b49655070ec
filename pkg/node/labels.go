package node

import (
	"fmt"
	"runtime"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Deprecated beta labels the kubelet still sets, kept so that old
// manifests selecting on them match.
const (
	labelBetaOS   = "beta.kubernetes.io/os"
	labelBetaArch = "beta.kubernetes.io/arch"
)

// BuiltinLabels are the labels minilet always sets on its node, as the
// kubelet does: hostname, os and arch (and their deprecated beta twins).
func BuiltinLabels(name string) map[string]string {
	return map[string]string{
		v1.LabelHostname:   name,
		v1.LabelOSStable:   runtime.GOOS,
		v1.LabelArchStable: runtime.GOARCH,
		labelBetaOS:        runtime.GOOS,
		labelBetaArch:      runtime.GOARCH,
	}
}

// nodeLabels merges the operator's labels under the built-in ones: a
// built-in label cannot be overridden. set (minilet label node) goes over
// extra (--node-labels); a nil value in it removes a label.
func nodeLabels(name string, extra map[string]string, set map[string]*string) map[string]string {
	out := BuiltinLabels(name)
	for k, v := range extra {
		if _, builtin := out[k]; !builtin {
			out[k] = v
		}
	}
	builtin := BuiltinLabels(name)
	for k, v := range set {
		if _, ok := builtin[k]; ok {
			continue
		}
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	return out
}

// ValidateLabels checks the operator's --node-labels: keys and values must
// be valid Kubernetes labels, and none may set a built-in label. The
// daemon calls it at start so that a mistake is an error, not a label
// silently ignored.
func ValidateLabels(labels map[string]string) error {
	builtin := BuiltinLabels("")
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var problems []string
	for _, k := range keys {
		if _, ok := builtin[k]; ok {
			problems = append(problems, fmt.Sprintf("%s: minilet sets this label itself", k))
			continue
		}
		for _, msg := range validation.IsQualifiedName(k) {
			problems = append(problems, fmt.Sprintf("%s: invalid key: %s", k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(labels[k]) {
			problems = append(problems, fmt.Sprintf("%s=%s: invalid value: %s", k, labels[k], msg))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("node labels: %s", strings.Join(problems, "; "))
	}
	return nil
}
