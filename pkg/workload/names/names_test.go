package names

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The expected hashes were printed by kube-controller-manager's own
// controller.ComputeHash, built from the k8s.io/kubernetes v1.34.1 source
// with k8s.io/api v0.34.1 (the version minilet uses); see
// docs/workloads.md.
func TestTemplateHashMatchesTheControllers(t *testing.T) {
	tmpl := v1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: v1.PodSpec{Containers: []v1.Container{{Name: "web", Image: "nginx:1.25",
			Ports: []v1.ContainerPort{{ContainerPort: 80}}}}},
	}
	if got := TemplateHash(&tmpl, nil); got != "79cf86b6d6" {
		t.Errorf("hash %s, want 79cf86b6d6", got)
	}
	one := int32(1)
	if got := TemplateHash(&tmpl, &one); got != "8489fbd55" {
		t.Errorf("hash with collisionCount 1: %s, want 8489fbd55", got)
	}
	tmpl.Spec.Containers[0].Image = "nginx:1.26"
	if got := TemplateHash(&tmpl, nil); got != "5496966f9f" {
		t.Errorf("hash of another image: %s, want 5496966f9f", got)
	}
}

func TestGenerate(t *testing.T) {
	n := Generate("web-79cf86b6d6-")
	if !strings.HasPrefix(n, "web-79cf86b6d6-") || len(n) != len("web-79cf86b6d6-")+5 {
		t.Fatalf("name %q", n)
	}
	if strings.ContainsAny(n[len(n)-5:], "aeiou013") {
		t.Errorf("suffix %q uses characters the API server's alphabet leaves out", n[len(n)-5:])
	}
	long := Generate(strings.Repeat("x", 80))
	if len(long) != 63 {
		t.Errorf("long name has %d characters", len(long))
	}
}
