package printers

import (
	"sort"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// maxAnnotationLen is the width past which describe prints an annotation
// on lines of its own, cut short.
const maxAnnotationLen = 140

// lastAppliedAnnotation is too long and too dull to describe.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// writeLabels writes a "Title: k=v" block, one label a line.
func writeLabels(pw *prefixWriter, title string, labels map[string]string) {
	pw.write(level0, "%s:\t", title)
	if len(labels) == 0 {
		pw.write(level0, "<none>\n")
		return
	}
	for i, k := range sortedKeys(labels) {
		if i != 0 {
			pw.write(level0, "\t")
		}
		pw.write(level0, "%s=%s\n", k, labels[k])
	}
}

// writeAnnotations writes a "Title: k: v" block; long or multi-line values
// go on lines of their own.
func writeAnnotations(pw *prefixWriter, title string, annotations map[string]string) {
	pw.write(level0, "%s:\t", title)
	var keys []string
	for _, k := range sortedKeys(annotations) {
		if k != lastAppliedAnnotation {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		pw.write(level0, "<none>\n")
		return
	}
	for i, k := range keys {
		if i != 0 {
			pw.write(level0, "\t")
		}
		v := strings.TrimSuffix(annotations[k], "\n")
		if len(v)+len(k)+2 > maxAnnotationLen || strings.Contains(v, "\n") {
			pw.write(level0, "%s:\n", k)
			for _, line := range strings.Split(v, "\n") {
				pw.write(level0, "\t  %s\n", shorten(line, maxAnnotationLen-2))
			}
		} else {
			pw.write(level0, "%s: %s\n", k, v)
		}
	}
}

func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// writeTolerations writes tolerations as kubectl does:
// key=value:Effect op=Exists for 300s.
func writeTolerations(pw *prefixWriter, title string, tolerations []v1.Toleration) {
	pw.write(level0, "%s:\t", title)
	if len(tolerations) == 0 {
		pw.write(level0, "<none>\n")
		return
	}
	ts := append([]v1.Toleration(nil), tolerations...)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Key < ts[j].Key })
	for i, t := range ts {
		if i != 0 {
			pw.write(level0, "\t")
		}
		var b strings.Builder
		b.WriteString(t.Key)
		if t.Value != "" {
			b.WriteString("=" + t.Value)
		}
		if t.Effect != "" {
			b.WriteString(":" + string(t.Effect))
		}
		if t.Operator == v1.TolerationOpExists && t.Value == "" {
			if t.Key != "" || t.Effect != "" {
				b.WriteString(" ")
			}
			b.WriteString("op=Exists")
		}
		if t.TolerationSeconds != nil {
			b.WriteString(" for " + strconv.FormatInt(*t.TolerationSeconds, 10) + "s")
		}
		pw.write(level0, "%s\n", b.String())
	}
}
