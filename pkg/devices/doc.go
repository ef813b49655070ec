// Package devices gives pods extended resources (nvidia.com/gpu and the
// like) on one host, as the kubelet's device manager does with device
// plugins, but from CDI specs (Container Device Interface, /etc/cdi and
// /var/run/cdi): each CDI kind (vendor.com/class) is a resource whose
// devices are the spec's devices; --node-extended-resources adds counted
// resources without devices. Allocate is pure: which devices a new pod's
// containers get, given what running pods hold, or the kubelet's
// OutOf<resource> refusal.
package devices
