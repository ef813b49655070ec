package podsandbox

import (
	"strings"

	v1 "k8s.io/api/core/v1"
)

// BuildEnv merges the image's environment with the container's env, in the
// kubelet's order: image first, then the container's entries (which
// override), with $(VAR) references expanded against what came before and
// fieldRef values resolved from the pod.
func BuildEnv(pod *v1.Pod, c *v1.Container, imageEnv []string, podIPs []string, hostIP string) []string {
	order := []string{}
	vals := map[string]string{}
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, kv := range imageEnv {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	// Like the kubelet, container env is expanded only against the
	// container's own earlier entries (and the pod's service variables,
	// which minilet has none of), not the image's.
	own := map[string]string{}
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			v = FieldValue(pod, e.ValueFrom.FieldRef.FieldPath, podIPs, []string{hostIP})
		} else {
			v = Expand(v, own)
		}
		own[e.Name] = v
		set(e.Name, v)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vals[k])
	}
	return out
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// Expand replaces $(VAR) with vars[VAR] as the kubelet does: $$ escapes a
// dollar, and a reference to an unknown variable is left as written.
func Expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
