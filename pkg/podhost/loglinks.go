package podhost

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// maxLinkName is the longest file name ext4 takes; the kubelet cuts link
// names to it.
const maxLinkName = 255

// LogLinkName is the name of a container's link in the log link directory,
// as the kubelet names them in /var/log/containers:
// <pod>_<namespace>_<container>-<containerID>.log, cut to 255 bytes.
func LogLinkName(pod *v1.Pod, container, containerID string) string {
	name := fmt.Sprintf("%s_%s_%s-%s", pod.Name, pod.Namespace, container, containerID)
	if len(name) > maxLinkName-len(".log") {
		name = name[:maxLinkName-len(".log")]
	}
	return name + ".log"
}

// LinkContainerLog makes the container's link in h.LogLinkDir to its log
// file, replacing a link of that name; log shippers (fluent-bit, promtail,
// vector) tail these links. Nothing is done without a LogLinkDir.
func (h Host) LinkContainerLog(pod *v1.Pod, container, containerID, logPath string) error {
	if h.LogLinkDir == "" {
		return nil
	}
	if err := os.MkdirAll(h.LogLinkDir, 0o755); err != nil {
		return fmt.Errorf("log link: %w", err)
	}
	target, err := filepath.Abs(logPath)
	if err != nil {
		return fmt.Errorf("log link: %w", err)
	}
	link := filepath.Join(h.LogLinkDir, LogLinkName(pod, container, containerID))
	tmp := link + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("log link: %w", err)
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("log link: %w", err)
	}
	return nil
}

// removeLogLinks removes the links in h.LogLinkDir whose target gone
// says to remove. Links that do not point under dir (another pod's or
// another agent's, or no links at all) are never touched.
func (h Host) removeLogLinks(dir string, gone func(target string) bool) error {
	if h.LogLinkDir == "" {
		return nil
	}
	entries, err := os.ReadDir(h.LogLinkDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("log links: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("log links: %w", err)
	}
	prefix := abs + string(filepath.Separator) // links point to absolute paths
	var errs []error
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		link := filepath.Join(h.LogLinkDir, e.Name())
		target, err := os.Readlink(link)
		if err != nil || !strings.HasPrefix(target, prefix) || !gone(target) {
			continue
		}
		if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("log link: %w", err))
		}
	}
	return errors.Join(errs...)
}

// SweepLogLinks removes the links into podLogDir whose log file is gone:
// what a daemon that died between removing a log and its link left.
func (h Host) SweepLogLinks(podLogDir string) error {
	return h.removeLogLinks(podLogDir, func(target string) bool {
		_, err := os.Lstat(target)
		return errors.Is(err, fs.ErrNotExist)
	})
}

// RemoveContainerLogLink removes the link of one container (by its ID), as
// the kubelet does when it removes a container: a container removed before
// it ever ran would otherwise leave a link to a log that never came.
func (h Host) RemoveContainerLogLink(pod *v1.Pod, container, containerID string) error {
	if h.LogLinkDir == "" {
		return nil
	}
	err := os.Remove(filepath.Join(h.LogLinkDir, LogLinkName(pod, container, containerID)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("log link: %w", err)
	}
	return nil
}
