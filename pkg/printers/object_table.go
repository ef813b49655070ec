package printers

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// PrintConfigMaps writes ConfigMaps as `kubectl get configmaps`: NAME DATA
// AGE.
func PrintConfigMaps(w io.Writer, items []v1.ConfigMap, opts Options, now time.Time) error {
	return printObjects(w, items, opts, "configmap", func(c *v1.ConfigMap) string { return c.Name },
		func(c v1.ConfigMap) v1.ConfigMap {
			c.TypeMeta = metav1.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"}
			return c
		},
		func() error {
			rows := make([][]string, 0, len(items))
			for i := range items {
				c := &items[i]
				rows = append(rows, objectRow(c.ObjectMeta, opts, now, fmt.Sprint(len(c.Data)+len(c.BinaryData))))
			}
			return writeTable(w, opts, []string{"NAME", "DATA", "AGE"}, rows)
		})
}

// PrintSecrets writes Secrets as `kubectl get secrets`: NAME TYPE DATA AGE.
// The daemon sends no values: -o yaml shows the keys only.
func PrintSecrets(w io.Writer, items []v1.Secret, opts Options, now time.Time) error {
	return printObjects(w, items, opts, "secret", func(s *v1.Secret) string { return s.Name },
		func(s v1.Secret) v1.Secret {
			s.TypeMeta = metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"}
			return s
		},
		func() error {
			rows := make([][]string, 0, len(items))
			for i := range items {
				s := &items[i]
				rows = append(rows, objectRow(s.ObjectMeta, opts, now, string(s.Type), fmt.Sprint(len(s.Data))))
			}
			return writeTable(w, opts, []string{"NAME", "TYPE", "DATA", "AGE"}, rows)
		})
}

// PrintClaims writes PersistentVolumeClaims as `kubectl get pvc`: NAME
// STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS
// AGE (VOLUMEMODE too for FormatWide).
func PrintClaims(w io.Writer, items []v1.PersistentVolumeClaim, opts Options, now time.Time) error {
	return printObjects(w, items, opts, "persistentvolumeclaim", func(c *v1.PersistentVolumeClaim) string { return c.Name },
		func(c v1.PersistentVolumeClaim) v1.PersistentVolumeClaim {
			c.TypeMeta = metav1.TypeMeta{Kind: "PersistentVolumeClaim", APIVersion: "v1"}
			return c
		},
		func() error {
			head := []string{"NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"}
			if opts.Format == FormatWide {
				head = append(head, "VOLUMEMODE")
			}
			rows := make([][]string, 0, len(items))
			for i := range items {
				c := &items[i]
				capacity := ""
				if q, ok := c.Status.Capacity[v1.ResourceStorage]; ok {
					capacity = q.String()
				}
				class := ""
				if c.Spec.StorageClassName != nil {
					class = *c.Spec.StorageClassName
				}
				cols := []string{string(c.Status.Phase), c.Spec.VolumeName, capacity, AccessModes(c.Status.AccessModes), class, "<unset>"}
				row := objectRow(c.ObjectMeta, opts, now, cols...)
				if opts.Format == FormatWide {
					mode := "<unset>"
					if c.Spec.VolumeMode != nil {
						mode = string(*c.Spec.VolumeMode)
					}
					row = insertBeforeLabels(row, opts, mode)
				}
				rows = append(rows, row)
			}
			return writeTable(w, opts, head, rows)
		})
}

// AccessModes abbreviates access modes as kubectl does: RWO,ROX,RWX,RWOP.
func AccessModes(modes []v1.PersistentVolumeAccessMode) string {
	short := map[v1.PersistentVolumeAccessMode]string{
		v1.ReadWriteOnce: "RWO", v1.ReadOnlyMany: "ROX", v1.ReadWriteMany: "RWX", v1.ReadWriteOncePod: "RWOP",
	}
	out := make([]string, 0, len(modes))
	for _, m := range modes {
		out = append(out, short[m])
	}
	return strings.Join(out, ",")
}

// objectRow is NAME (after NAMESPACE for AllNamespaces), cols, AGE, and
// LABELS for ShowLabels.
func objectRow(m metav1.ObjectMeta, opts Options, now time.Time, cols ...string) []string {
	var row []string
	if opts.AllNamespaces {
		row = append(row, m.Namespace)
	}
	row = append(row, opts.KindPrefix+m.Name)
	row = append(row, cols...)
	row = append(row, Age(m.CreationTimestamp, now))
	if opts.ShowLabels {
		row = append(row, labels.FormatLabels(m.Labels))
	}
	return row
}

func insertBeforeLabels(row []string, opts Options, col string) []string {
	if !opts.ShowLabels {
		return append(row, col)
	}
	n := len(row) - 1
	return append(append(row[:n:n], col), row[n])
}

// writeTable writes a header (with NAMESPACE and LABELS as opts ask) and
// rows.
func writeTable(w io.Writer, opts Options, head []string, rows [][]string) error {
	tw := newTabWriter(w)
	if !opts.NoHeaders {
		h := head
		if opts.AllNamespaces {
			h = append([]string{"NAMESPACE"}, head...)
		}
		if opts.ShowLabels {
			h = append(h, "LABELS")
		}
		fmt.Fprintln(tw, strings.Join(h, "\t"))
	}
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// secretSizes reads the sizes of a Secret's values from the annotation the
// daemon sets (its values are never sent).
func secretSizes(s *v1.Secret, annotation string) map[string]int {
	sizes := map[string]int{}
	if raw, ok := s.Annotations[annotation]; ok {
		_ = json.Unmarshal([]byte(raw), &sizes)
	}
	return sizes
}
