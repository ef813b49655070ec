// Package network sets up and tears down the network namespace of a pod
// with CNI, through containerd's go-cni (a thin layer over libcni, the same
// path containerd's CRI plugin takes).
//
// A Manager owns one CNI network, loaded from a config directory (or written
// there as a default bridge + host-local + portmap conflist), plus the
// loopback network. A pod's network lives in a persistent network namespace,
// a file under Config.NetnsDir that the namespace is bind-mounted on:
//
//	path, _ := m.CreateNetns(podID)     // the sandbox joins this netns
//	ips, _ := m.Attach(ctx, path, att)  // CNI ADD: lo, eth0, host ports
//	...
//	m.Detach(ctx, path, att)            // CNI DEL: IP and host ports released
//	m.RemoveNetns(podID)
//
// Detach needs only the Attachment (pod ID and ports) and the path, and
// works when the namespace is already gone or ADD never ran, so a restarted
// daemon can clean up what it finds with ListNetns.
package network
