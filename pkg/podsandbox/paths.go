package podsandbox

import (
	"fmt"
	"path/filepath"

	v1 "k8s.io/api/core/v1"
)

// Paths are where one pod's files live on the host.
type Paths struct {
	StateDir string // <root-dir>/pods/<uid>: pod.json, etc-hosts, hostname, resolv.conf, volumes/
	ShmDir   string // a tmpfs shared as /dev/shm by the pod's containers
	LogDir   string // <pod-log-dir>/<namespace>_<name>_<uid>
	// ClaimRoot holds the PersistentVolumeClaims' directories:
	// <ClaimRoot>/<namespace>/<claim>. NewPaths sets <root-dir>/volumes.
	ClaimRoot string
}

// NewPaths lays out a pod's paths under the daemon's directories.
func NewPaths(rootDir, runDir, podLogDir string, pod *v1.Pod) Paths {
	uid := string(pod.UID)
	return Paths{
		StateDir:  filepath.Join(rootDir, "pods", uid),
		ShmDir:    filepath.Join(runDir, "pods", uid, "shm"),
		LogDir:    filepath.Join(podLogDir, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, uid)),
		ClaimRoot: filepath.Join(rootDir, "volumes"),
	}
}

// PodFile is where the pod's defaulted manifest is kept, so a restarted
// daemon can stop a pod whose manifest is gone.
func (p Paths) PodFile() string { return filepath.Join(p.StateDir, "pod.json") }

// HostsFile is the pod's /etc/hosts.
func (p Paths) HostsFile() string { return filepath.Join(p.StateDir, "etc-hosts") }

// HostnameFile is the pod's /etc/hostname.
func (p Paths) HostnameFile() string { return filepath.Join(p.StateDir, "hostname") }

// ResolvFile is the pod's /etc/resolv.conf.
func (p Paths) ResolvFile() string { return filepath.Join(p.StateDir, "resolv.conf") }

// ClaimDir is the directory of the PersistentVolumeClaim namespace/name:
// it outlives the pod.
func (p Paths) ClaimDir(namespace, name string) string {
	return filepath.Join(p.ClaimRoot, namespace, name)
}

// VolumeDir is the directory of an emptyDir, ephemeral, configMap, secret,
// downwardAPI or projected volume: it goes with the pod.
func (p Paths) VolumeDir(name string) string { return filepath.Join(p.StateDir, "volumes", name) }

// TerminationLog is the host file behind one attempt's
// terminationMessagePath: what the container writes there is its
// terminated state's message.
func (p Paths) TerminationLog(container string, restartCount int) string {
	return filepath.Join(p.StateDir, "containers", container, fmt.Sprintf("%d.termination-log", restartCount))
}

// ContainerLog is the log file of one attempt of a container, laid out as
// the kubelet does: <container>/<restartCount>.log.
func (p Paths) ContainerLog(container string, restartCount int) string {
	return filepath.Join(p.LogDir, container, fmt.Sprintf("%d.log", restartCount))
}
