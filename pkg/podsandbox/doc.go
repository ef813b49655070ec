// Package podsandbox translates a Pod into what the runtime needs: the IDs
// and labels of its containers, the spec of its pause sandbox and of every
// app and init container (namespaces joined through /proc/<pause pid>/ns/*,
// mounts, resources, security), and the contents of the pod's /etc/hosts,
// /etc/hostname and /etc/resolv.conf. It is pure: no I/O, no runtime calls.
package podsandbox
