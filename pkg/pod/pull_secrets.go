package pod

import (
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/credentials"
	"github.com/minilet/minilet/pkg/runtime"
)

// pullCredentials are the logins of the pod's imagePullSecrets (API pods;
// a file's pod cannot name any) that match c's image. Secrets that are
// missing or unreadable are said in a warning event, as the kubelet's
// FailedToRetrieveImagePullSecret, and the pull goes on without them.
func (w *worker) pullCredentials(pod *v1.Pod, c *v1.Container) []runtime.Credential {
	if len(pod.Spec.ImagePullSecrets) == 0 {
		return nil
	}
	objs := w.d.objectSet()
	var secrets []*v1.Secret
	var missing []string
	for _, ref := range pod.Spec.ImagePullSecrets {
		if s, ok := objs.Secret(pod.Namespace, ref.Name); ok {
			secrets = append(secrets, s)
		} else {
			missing = append(missing, ref.Name)
		}
	}
	if len(missing) > 0 {
		w.events.record(v1.EventTypeWarning, "FailedToRetrieveImagePullSecret",
			fmt.Sprintf("Unable to retrieve some image pull secrets (%s); attempting to pull the image may not succeed.", strings.Join(missing, ", ")), c.Name)
	}
	auths, err := credentials.ForImage(secrets, c.Image)
	if err != nil {
		w.events.record(v1.EventTypeWarning, "FailedToRetrieveImagePullSecret", err.Error(), c.Name)
	}
	out := make([]runtime.Credential, len(auths))
	for i, a := range auths {
		out[i] = runtime.Credential{User: a.User, Secret: a.Secret}
	}
	return out
}
