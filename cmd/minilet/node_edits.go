package main

import (
	"encoding/json"
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// labelEdit is one argument of `minilet label node`: key=value, or key-.
type labelEdit struct {
	key, value string
	remove     bool
}

func parseLabelEdits(args []string) ([]labelEdit, error) {
	var out []labelEdit
	for _, a := range args {
		switch {
		case strings.HasSuffix(a, "-") && !strings.Contains(a, "="):
			out = append(out, labelEdit{key: strings.TrimSuffix(a, "-"), remove: true})
		case strings.Contains(a, "="):
			k, v, _ := strings.Cut(a, "=")
			out = append(out, labelEdit{key: k, value: v})
		default:
			return nil, fmt.Errorf("invalid label spec: %s, should be key=value or key-", a)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("at least one label update is required")
	}
	return out, nil
}

// labelPatch computes kubectl label's merge patch of labels, its verb
// (labeled, unlabeled, not labeled) and notes for keys to remove that are
// not there; an existing key with another value needs overwrite.
func labelPatch(labels map[string]string, edits []labelEdit, overwrite bool) (patch []byte, verb string, notes []string, err error) {
	changes := map[string]any{}
	added, removed := false, false
	for _, e := range edits {
		old, has := labels[e.key]
		if e.remove {
			if !has {
				notes = append(notes, fmt.Sprintf("label %q not found.", e.key))
				continue
			}
			changes[e.key] = nil
			removed = true
			continue
		}
		if has && old != e.value && !overwrite {
			return nil, "", nil, fmt.Errorf("'%s' already has a value (%s), and --overwrite is false", e.key, old)
		}
		if has && old == e.value {
			continue
		}
		changes[e.key] = e.value
		added = true
	}
	switch {
	case added:
		verb = "labeled"
	case removed:
		verb = "unlabeled"
	default:
		return nil, "not labeled", notes, nil
	}
	patch, err = json.Marshal(map[string]any{"metadata": map[string]any{"labels": changes}})
	return patch, verb, notes, err
}

// taintEdit is one argument of `minilet taint node`: key[=value]:Effect,
// or key[:Effect]- (no effect: every effect of the key).
type taintEdit struct {
	taint  v1.Taint
	remove bool
}

func parseTaintEdits(args []string) ([]taintEdit, error) {
	var out []taintEdit
	for _, a := range args {
		spec, remove := strings.CutSuffix(a, "-")
		kv, effect, hasEffect := strings.Cut(spec, ":")
		k, v, hasValue := strings.Cut(kv, "=")
		t := v1.Taint{Key: k, Value: v, Effect: v1.TaintEffect(effect)}
		switch {
		case k == "":
			return nil, fmt.Errorf("invalid taint spec: %s", a)
		case remove && hasValue:
			return nil, fmt.Errorf("invalid taint spec: %s, a taint to remove is key[:effect]-", a)
		case !remove && !hasEffect:
			return nil, fmt.Errorf("invalid taint spec: %s, should be key[=value]:effect (effect NoSchedule, PreferNoSchedule or NoExecute)", a)
		}
		switch t.Effect {
		case "", v1.TaintEffectNoSchedule, v1.TaintEffectPreferNoSchedule, v1.TaintEffectNoExecute:
			if t.Effect == "" && hasEffect {
				return nil, fmt.Errorf("invalid taint spec: %s, empty effect", a)
			}
		default:
			return nil, fmt.Errorf("invalid taint effect: %s, unsupported taint effect", effect)
		}
		out = append(out, taintEdit{taint: t, remove: remove})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("at least one taint update is required")
	}
	return out, nil
}

// taintPatch computes kubectl taint's patch (the whole list of taints)
// and its verb (tainted, untainted, modified).
func taintPatch(node *v1.Node, edits []taintEdit, overwrite bool) (patch []byte, verb string, err error) {
	taints := append([]v1.Taint(nil), node.Spec.Taints...)
	added, removed, modified := false, false, false
	for _, e := range edits {
		if e.remove {
			kept := taints[:0:0]
			found := false
			for _, t := range taints {
				if t.Key == e.taint.Key && (e.taint.Effect == "" || t.Effect == e.taint.Effect) {
					found = true
					continue
				}
				kept = append(kept, t)
			}
			if !found {
				return nil, "", fmt.Errorf("taint %q not found", e.taint.ToString())
			}
			taints, removed = kept, true
			continue
		}
		i := -1
		for j, t := range taints {
			if t.Key == e.taint.Key && t.Effect == e.taint.Effect {
				i = j
			}
		}
		switch {
		case i >= 0 && !overwrite:
			return nil, "", fmt.Errorf("node %s already has %s taint(s) with same effect(s) and --overwrite is false", node.Name, e.taint.Key)
		case i >= 0:
			taints[i].Value, modified = e.taint.Value, true
		default:
			taints, added = append(taints, e.taint), true
		}
	}
	switch {
	case modified || (added && removed):
		verb = "modified"
	case added:
		verb = "tainted"
	default:
		verb = "untainted"
	}
	patch, err = json.Marshal(map[string]any{"spec": map[string]any{"taints": taints}})
	return patch, verb, err
}
