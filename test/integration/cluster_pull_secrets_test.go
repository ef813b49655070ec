package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestClusterImagePullSecrets: an API pod's imagePullSecrets are used for
// its pulls: from a registry with basic auth, a pod without the secret
// cannot pull (ErrImagePull or ImagePullBackOff in the API), the same pod
// with a docker-registry Secret made by kubectl runs; a pod naming a
// Secret that does not exist gets the kubelet's warning and pulls without
// it, and the warning is an event in the API (kubectl describe shows the
// node's events); the password is in no log line of the daemon.
func TestClusterImagePullSecrets(t *testing.T) {
	reg := startRegistry(t)
	image := reg.host + "/team/app:1"
	reg.push(t, image)
	p := needPlane(t)
	name := takeNodeName(t)
	d := startClusterDaemon(t, p, name)
	waitNode(t, p, name, 60*time.Second, "registered and Ready", nodeReadyIs(v1.ConditionTrue))

	apply := func(pod, secret string) {
		t.Helper()
		secrets := ""
		if secret != "" {
			secrets = fmt.Sprintf("\n  imagePullSecrets: [{name: %s}]", secret)
		}
		path := filepath.Join(t.TempDir(), pod+".yaml")
		if err := os.WriteFile(path, []byte(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, labels: {app: %s}}
spec:
  terminationGracePeriodSeconds: 0%s
  containers: [{name: app, image: %q, imagePullPolicy: Always, command: ["sleep", "3600"]}]
`, pod, pod, secrets, image)), 0o644); err != nil {
			t.Fatal(err)
		}
		kubectl(t, p, "apply", "-f", path)
		t.Cleanup(func() { _, _ = p.Kubectl(t.Context(), "delete", "pod", pod, "--wait=false") })
	}

	apply("anonymous", "")
	waitAPIObject(t, p, "the pod without credentials failing to pull", 60*time.Second, func(pod *v1.Pod) error {
		if len(pod.Status.ContainerStatuses) == 0 {
			return fmt.Errorf("no container status")
		}
		w := pod.Status.ContainerStatuses[0].State.Waiting
		if w == nil || (w.Reason != "ErrImagePull" && w.Reason != "ImagePullBackOff") {
			return fmt.Errorf("state %+v", pod.Status.ContainerStatuses[0].State)
		}
		return nil
	}, "get", "pod", "anonymous")

	kubectl(t, p, "create", "secret", "docker-registry", "regcred", "--docker-server="+reg.host,
		"--docker-username="+reg.user, "--docker-password="+reg.password)
	apply("withsecret", "regcred")
	waitAPIPods(t, p, "app=withsecret", 1, 60*time.Second)

	apply("missingsecret", "nosuch")
	d.eventually(60*time.Second, "the warning about the missing pull secret", func() error {
		// Not d.events: the pod may not be on the node yet (it waits for
		// its service account token).
		evs, err := d.Client.PodEvents(t.Context(), "default", "missingsecret")
		if err != nil {
			return err
		}
		if findEvent(evs.Items, "FailedToRetrieveImagePullSecret", "(nosuch)") == nil {
			return fmt.Errorf("no FailedToRetrieveImagePullSecret event")
		}
		return nil
	})
	// The event is the API server's too, as the kubelet's: what
	// `kubectl describe pod` shows.
	waitAPIObject(t, p, "the warning as an event in the API", 60*time.Second, func(l *v1.EventList) error {
		for _, e := range l.Items {
			if e.Source.Component == "kubelet" && e.Source.Host == name && e.InvolvedObject.Kind == "Pod" && e.InvolvedObject.UID != "" {
				return nil
			}
		}
		return fmt.Errorf("events %+v", l.Items)
	}, "get", "events", "--field-selector", "involvedObject.name=missingsecret,reason=FailedToRetrieveImagePullSecret")
	if out := kubectl(t, p, "describe", "pod", "withsecret"); !strings.Contains(out, "Started") {
		t.Errorf("kubectl describe pod shows no Started event of the node:\n%s", out)
	}
	if strings.Contains(d.output.String(), reg.password) {
		t.Fatal("the registry password is in the daemon's log")
	}
}
