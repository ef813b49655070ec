package manifest

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
)

func TestValidateEphemeral(t *testing.T) {
	pod := &v1.Pod{Spec: v1.PodSpec{Containers: []v1.Container{{Name: "app", Image: "busybox"}}}}
	debugger := func(name string, edit func(*v1.EphemeralContainer)) v1.EphemeralContainer {
		ec := v1.EphemeralContainer{EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: name, Image: "busybox"}, TargetContainerName: "app"}
		if edit != nil {
			edit(&ec)
		}
		DefaultEphemeral(&ec)
		return ec
	}
	if err := ValidateEphemeral(pod, []v1.EphemeralContainer{debugger("dbg", nil)}); err != nil {
		t.Fatalf("a plain debugger: %v", err)
	}
	withOld := pod.DeepCopy()
	withOld.Spec.EphemeralContainers = []v1.EphemeralContainer{debugger("dbg", nil)}
	for _, tc := range []struct {
		pod  *v1.Pod
		list []v1.EphemeralContainer
		want string
	}{
		{pod, []v1.EphemeralContainer{debugger("app", nil)}, `spec.ephemeralContainers[0].name: Duplicate value: "app"`},
		{pod, []v1.EphemeralContainer{debugger("dbg", func(e *v1.EphemeralContainer) { e.TargetContainerName = "nope" })}, `targetContainerName: Not found: "nope"`},
		{pod, []v1.EphemeralContainer{debugger("dbg", func(e *v1.EphemeralContainer) { e.Ports = []v1.ContainerPort{{ContainerPort: 80}} })}, `spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container`},
		{pod, []v1.EphemeralContainer{debugger("dbg", func(e *v1.EphemeralContainer) { e.ReadinessProbe = &v1.Probe{} })}, `readinessProbe: Forbidden`},
		{pod, []v1.EphemeralContainer{debugger("dbg", func(e *v1.EphemeralContainer) { e.Image = "" })}, `image: Required value`},
		{withOld, nil, `existing ephemeral container "dbg" may not be removed`},
		{withOld, []v1.EphemeralContainer{debugger("dbg", func(e *v1.EphemeralContainer) { e.Image = "alpine" })}, `existing ephemeral containers may not be changed`},
	} {
		err := ValidateEphemeral(tc.pod, tc.list)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want %q, got %v", tc.want, err)
		}
	}
	if err := ValidateEphemeral(withOld, append(withOld.Spec.EphemeralContainers, debugger("dbg2", nil))); err != nil {
		t.Errorf("adding a second one: %v", err)
	}
}

// An ephemeral container the API server added is checked for what
// minilet cannot honour, by name.
func TestCheckEphemeralContainer(t *testing.T) {
	pod := &v1.Pod{Spec: v1.PodSpec{Containers: []v1.Container{{Name: "app", Image: "busybox"}}}}
	add := func(name string, stdin, tty bool) {
		ec := v1.EphemeralContainer{EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: name, Image: "busybox", Stdin: stdin, TTY: tty}}
		DefaultEphemeral(&ec)
		pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers, ec)
	}
	add("shell", true, true)
	add("pipe", true, false)
	if err := CheckEphemeralContainer(pod, "shell"); err != nil {
		t.Errorf("stdin with a terminal: %v", err)
	}
	if err := CheckEphemeralContainer(pod, "pipe"); err == nil || !strings.Contains(err.Error(), "spec.ephemeralContainers[1].stdin: Forbidden") {
		t.Errorf("stdin without a terminal: %v", err)
	}
	if err := CheckEphemeralContainer(pod, "nope"); err == nil {
		t.Error("an unknown name passed")
	}
}
