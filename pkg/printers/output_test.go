package printers

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func TestJSONAndYAML(t *testing.T) {
	pods := tablePods()

	one := printTable(t, pods[:1], Options{Format: FormatJSON, Single: true})
	if !strings.HasPrefix(one, "{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Pod\",\n    \"metadata\": {\n") {
		t.Errorf("single pod JSON starts\n%s", one[:min(len(one), 200)])
	}
	var pod v1.Pod
	if err := json.Unmarshal([]byte(one), &pod); err != nil || pod.Name != "web" || pod.Kind != "Pod" {
		t.Errorf("single pod JSON does not decode to the pod: %v %+v", err, pod.ObjectMeta)
	}

	list := printTable(t, pods, Options{Format: FormatJSON})
	var l struct {
		APIVersion, Kind string
		Items            []v1.Pod
		Metadata         map[string]string
	}
	if err := json.Unmarshal([]byte(list), &l); err != nil {
		t.Fatal(err)
	}
	if l.APIVersion != "v1" || l.Kind != "List" || len(l.Items) != 2 || l.Items[1].Kind != "Pod" || l.Items[1].APIVersion != "v1" {
		t.Errorf("list: %s %s %d items", l.APIVersion, l.Kind, len(l.Items))
	}
	if _, ok := l.Metadata["resourceVersion"]; !ok {
		t.Errorf("list metadata lacks resourceVersion, as kubectl prints it")
	}
	if !strings.HasSuffix(list, "    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n") {
		t.Errorf("list JSON ends\n%s", list[max(0, len(list)-200):])
	}
	// A single pod asked for as a list (no name given) is still a List.
	if s := printTable(t, pods[:1], Options{Format: FormatJSON}); !strings.Contains(s, `"kind": "List"`) {
		t.Errorf("one listed pod is not printed as a List")
	}
	empty := printTable(t, nil, Options{Format: FormatJSON})
	if !strings.Contains(empty, "\"items\": [],") {
		t.Errorf("empty list:\n%s", empty)
	}

	y := printTable(t, pods[:1], Options{Format: FormatYAML, Single: true})
	if !strings.HasPrefix(y, "apiVersion: v1\nkind: Pod\nmetadata:\n") {
		t.Errorf("single pod YAML starts\n%s", y[:min(len(y), 200)])
	}
	ylist := printTable(t, pods, Options{Format: FormatYAML})
	if !strings.HasPrefix(ylist, "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n") || !strings.Contains(ylist, "\nkind: List\nmetadata:\n  resourceVersion: \"\"\n") {
		t.Errorf("list YAML:\n%s", ylist)
	}
	var back struct{ Items []v1.Pod }
	if err := yaml.Unmarshal([]byte(ylist), &back); err != nil || len(back.Items) != 2 || back.Items[1].Name != "crashy" {
		t.Errorf("list YAML does not decode: %v", err)
	}
}

func TestJSONKeepsNumbersExact(t *testing.T) {
	var b bytes.Buffer
	if err := PrintJSON(&b, map[string]any{"big": int64(1) << 62}); err != nil {
		t.Fatal(err)
	}
	if b.String() != "{\n    \"big\": 4611686018427387904\n}\n" {
		t.Errorf("got %q", b.String())
	}
}
