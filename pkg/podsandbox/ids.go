package podsandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/types"
)

// Labels on every container minilet creates. The io.kubernetes.* ones are
// the kubelet's, so tools that know them (crictl, nerdctl) read ours too.
const (
	LabelPodName       = "io.kubernetes.pod.name"
	LabelPodNamespace  = "io.kubernetes.pod.namespace"
	LabelPodUID        = "io.kubernetes.pod.uid"
	LabelContainerName = "io.kubernetes.container.name"
	LabelRestartCount  = "io.kubernetes.container.restartCount"
	LabelManaged       = "minilet.io/managed"        // "true" on everything minilet owns
	LabelPodID         = "minilet.io/pod-id"         // short pod ID, prefix of every container ID
	LabelPodHash       = "minilet.io/pod-hash"       // manifest hash of the pod version that made it
	LabelManifest      = "minilet.io/manifest"       // manifest file the pod came from
	LabelContainerType = "minilet.io/container-type" // sandbox, init or app
	// LabelSandbox names the sandbox instance a container belongs to: on
	// the pause container, a token made when it was created; on the
	// others, the token of the pause whose namespaces they join. A
	// container whose token is not the running pause's (after a reboot,
	// or a pause that died) can never run again and is made anew.
	LabelSandbox = "minilet.io/sandbox"

	// AnnotationShimGroup makes the runc v2 shim run all of a pod's
	// containers in one shim process.
	AnnotationShimGroup = "io.containerd.runc.v2.group"

	// SandboxName is the container name of the pause sandbox, as the kubelet
	// labels it.
	SandboxName = "POD"
)

// Container types, the value of LabelContainerType.
const (
	TypeSandbox = "sandbox"
	TypeInit    = "init"
	TypeApp     = "app"
	// TypeEphemeral is an ephemeral container (minilet debug).
	TypeEphemeral = "ephemeral"
)

// PodID is the short ID that prefixes all of a pod's container IDs: 12 hex
// characters of the SHA-256 of its UID (a pinned metadata.uid may be any
// string, so it cannot be used as is).
func PodID(uid types.UID) string {
	sum := sha256.Sum256([]byte(uid))
	return hex.EncodeToString(sum[:6])
}

// ShimGroup names the one shim that runs all of a pod's containers, every
// sandbox instance's included (AnnotationShimGroup). It is the ID a
// minilet before sandbox tokens gave the pause, so its pods keep theirs.
func ShimGroup(podID string) string { return podID + "-pod" }

// SandboxID is the containerd ID of one pause container of a pod: each
// sandbox instance has its own (token, see LabelSandbox), as CRI sandboxes
// do, so a runtime that kept state of an earlier one under its ID (a task
// create cut short) never stands in the way of the next. The dot keeps it
// apart from every container ID (a container name has no dot). A minilet
// before tokens named the pause "<pod-id>-pod"; such pods are found by
// label all the same.
func SandboxID(podID, token string) string { return podID + "-pod." + token }

// maxNameInID bounds the part of a container ID taken from its name, so the
// ID stays within containerd's 76 characters.
const maxNameInID = 48

// ContainerID is the containerd ID of one attempt of a container. IDs are
// deterministic, so a daemon killed between create and start finds its
// container again instead of making a second one.
func ContainerID(podID, name string, attempt int) string {
	n := name
	if len(n) > maxNameInID {
		sum := sha256.Sum256([]byte(name))
		n = n[:maxNameInID-9] + "-" + hex.EncodeToString(sum[:4])
	}
	return fmt.Sprintf("%s-%s-%s", podID, n, strconv.Itoa(attempt))
}
