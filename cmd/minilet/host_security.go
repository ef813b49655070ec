package main

import (
	"github.com/containerd/containerd/pkg/apparmor"
	"github.com/opencontainers/selinux/go-selinux"

	"github.com/minilet/minilet/pkg/node"
)

// hostSecurity says which Linux security modules this host enforces.
func hostSecurity() node.HostSecurity {
	return node.HostSecurity{AppArmor: apparmor.HostSupports(), SELinux: selinux.GetEnabled()}
}
