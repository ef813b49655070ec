// Package integration tests minilet end to end: a real containerd (started
// by the tests, with its own socket, root and state), runc, CNI plugins, and
// the minilet binary run as a daemon process. Assertions look at the
// kernel's side: namespace inodes under /proc, cgroup files, pod IPs that
// answer, files in volumes. The tests need root and the Debian packages of
// `make deps`; without them they skip with the reason.
package integration
