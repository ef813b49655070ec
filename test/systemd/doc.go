// Package systemd tests minilet's unit under a real systemd: a Debian
// bookworm root filesystem (made once with debootstrap and kept) boots in
// systemd-nspawn, runs containerd and runc nested, and minilet from the
// repository's unit file. See ../../docs/systemd-test.md.
package systemd
