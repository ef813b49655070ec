package printers

import (
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	v1 "k8s.io/api/core/v1"
)

// DescribeConfigMap writes a ConfigMap as `kubectl describe configmap`.
func DescribeConfigMap(w io.Writer, c *v1.ConfigMap) error {
	pw := newPrefixWriter(tabwriter.NewWriter(w, 0, 8, 2, ' ', 0))
	pw.write(level0, "Name:\t%s\n", c.Name)
	pw.write(level0, "Namespace:\t%s\n", c.Namespace)
	writeLabels(pw, "Labels", c.Labels)
	writeAnnotations(pw, "Annotations", c.Annotations)
	pw.flush()
	pw.write(level0, "\nData\n====\n")
	for _, k := range sortedKeys(c.Data) {
		pw.write(level0, "%s:\n----\n", k)
		pw.flush()
		v := c.Data[k]
		pw.write(level0, "%s\n", v)
		if !strings.HasSuffix(v, "\n") {
			pw.write(level0, "\n")
		}
		pw.flush()
	}
	pw.write(level0, "\nBinaryData\n====\n")
	keys := make([]string, 0, len(c.BinaryData))
	for k := range c.BinaryData {
		keys = append(keys, k)
	}
	for _, k := range sortedStrings(keys) {
		pw.write(level0, "%s: %s bytes\n", k, strconv.Itoa(len(c.BinaryData[k])))
	}
	pw.write(level0, "\nEvents:\t<none>\n")
	pw.flush()
	return pw.err
}

// DescribeSecret writes a Secret as `kubectl describe secret`: keys and
// the sizes of their values (from sizeAnnotation; the daemon never sends
// values).
func DescribeSecret(w io.Writer, s *v1.Secret, sizeAnnotation string) error {
	pw := newPrefixWriter(tabwriter.NewWriter(w, 0, 8, 2, ' ', 0))
	pw.write(level0, "Name:\t%s\n", s.Name)
	pw.write(level0, "Namespace:\t%s\n", s.Namespace)
	writeLabels(pw, "Labels", s.Labels)
	ann := map[string]string{}
	for k, v := range s.Annotations {
		if k != sizeAnnotation {
			ann[k] = v
		}
	}
	writeAnnotations(pw, "Annotations", ann)
	pw.write(level0, "\nType:\t%s\n", s.Type)
	pw.write(level0, "\nData\n====\n")
	sizes := secretSizes(s, sizeAnnotation)
	keys := make([]string, 0, len(s.Data))
	for k := range s.Data {
		keys = append(keys, k)
	}
	for _, k := range sortedStrings(keys) {
		pw.write(level0, "%s:\t%s bytes\n", k, strconv.Itoa(sizes[k]))
	}
	pw.flush()
	return pw.err
}

// DescribeClaim writes a PersistentVolumeClaim as `kubectl describe pvc`,
// with the pods that mount it and whether its request is enforced.
func DescribeClaim(w io.Writer, c *v1.PersistentVolumeClaim, usedBy []string, path string, enforced bool) error {
	pw := newPrefixWriter(tabwriter.NewWriter(w, 0, 8, 2, ' ', 0))
	pw.write(level0, "Name:\t%s\n", c.Name)
	pw.write(level0, "Namespace:\t%s\n", c.Namespace)
	class := ""
	if c.Spec.StorageClassName != nil {
		class = *c.Spec.StorageClassName
	}
	pw.write(level0, "StorageClass:\t%s\n", class)
	pw.write(level0, "Status:\t%s\n", c.Status.Phase)
	pw.write(level0, "Volume:\t%s\n", c.Spec.VolumeName)
	writeLabels(pw, "Labels", c.Labels)
	writeAnnotations(pw, "Annotations", c.Annotations)
	capacity := ""
	if q, ok := c.Status.Capacity[v1.ResourceStorage]; ok {
		capacity = q.String()
		if !enforced {
			capacity += " (not enforced on this filesystem)"
		}
	}
	pw.write(level0, "Capacity:\t%s\n", capacity)
	pw.write(level0, "Access Modes:\t%s\n", AccessModes(c.Spec.AccessModes))
	mode := "Filesystem"
	if c.Spec.VolumeMode != nil {
		mode = string(*c.Spec.VolumeMode)
	}
	pw.write(level0, "VolumeMode:\t%s\n", mode)
	pw.write(level0, "Path:\t%s\n", path)
	used := "<none>"
	if len(usedBy) > 0 {
		used = strings.Join(usedBy, ", ")
	}
	pw.write(level0, "Used By:\t%s\n", used)
	pw.write(level0, "Events:\t<none>\n")
	pw.flush()
	return pw.err
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
