package printers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Format is an output format of `get`, as given to -o.
type Format string

// The output formats.
const (
	FormatTable Format = ""
	FormatWide  Format = "wide"
	FormatJSON  Format = "json"
	FormatYAML  Format = "yaml"
	FormatName  Format = "name"
)

// ParseFormat checks an -o value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatTable, FormatWide, FormatJSON, FormatYAML, FormatName:
		return f, nil
	}
	return "", fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: json,name,wide,yaml", s)
}

// Options say how to print pods.
type Options struct {
	Format        Format
	AllNamespaces bool // a NAMESPACE column
	ShowLabels    bool // a LABELS column
	NoHeaders     bool // no header line
	// Single is set when the user named exactly one pod: json and yaml
	// then print a Pod rather than a List.
	Single bool
	// KindPrefix goes before every name in tables ("pod/",
	// "deployment.apps/"), as `kubectl get all` shows them.
	KindPrefix string
}

// PrintPods writes pods in opts.Format.
func PrintPods(w io.Writer, pods []v1.Pod, opts Options, now time.Time) error {
	return printObjects(w, pods, opts, "pod", func(p *v1.Pod) string { return p.Name }, typedPod,
		func() error { return PrintPodTable(w, pods, opts, now) })
}

// printObjects writes objects of one kind in opts.Format, as kubectl get
// does: a lone named object as itself, else a `kind: List`, for JSON and
// YAML; `<resource>/<name>` lines for FormatName; table() otherwise.
func printObjects[T any](w io.Writer, items []T, opts Options, resource string, name func(*T) string, typed func(T) T, table func() error) error {
	switch opts.Format {
	case FormatJSON, FormatYAML:
		var obj any
		if opts.Single && len(items) == 1 {
			obj = typed(items[0])
		} else {
			l := objectList[T]{APIVersion: "v1", Kind: "List", Items: make([]T, 0, len(items))}
			for _, it := range items {
				l.Items = append(l.Items, typed(it))
			}
			obj = l
		}
		if opts.Format == FormatJSON {
			return PrintJSON(w, obj)
		}
		return PrintYAML(w, obj)
	case FormatName:
		for i := range items {
			if _, err := fmt.Fprintf(w, "%s/%s\n", resource, name(&items[i])); err != nil {
				return fmt.Errorf("write %s names: %w", resource, err)
			}
		}
		return nil
	default:
		return table()
	}
}

// objectList is kubectl's `kind: List` wrapper of several objects.
type objectList[T any] struct {
	APIVersion string   `json:"apiVersion"`
	Items      []T      `json:"items"`
	Kind       string   `json:"kind"`
	Metadata   listMeta `json:"metadata"`
}

type listMeta struct {
	ResourceVersion string `json:"resourceVersion"`
}

func typedPod(p v1.Pod) v1.Pod {
	p.TypeMeta = metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"}
	return p
}

// PrintJSON writes obj as kubectl's -o json does: keys sorted, 4-space
// indents, a final newline.
func PrintJSON(w io.Writer, obj any) error {
	raw, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	// Decode into maps, which encoding/json writes with sorted keys, as
	// kubectl (which prints unstructured objects) does. Numbers stay
	// exact.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	out, err := json.MarshalIndent(generic, "", "    ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	if _, err := w.Write(append(out, '\n')); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// PrintYAML writes obj as YAML with sorted keys, like kubectl's -o yaml.
func PrintYAML(w io.Writer, obj any) error {
	out, err := yaml.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encode YAML: %w", err)
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("write YAML: %w", err)
	}
	return nil
}
