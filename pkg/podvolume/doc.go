// Package podvolume decides the files of a pod's configMap, secret,
// downwardAPI and projected volumes, and the environment variables a
// container takes from ConfigMaps, Secrets and its resources, as the
// kubelet does. It is pure: it reads the pod and the objects it is given
// and does no I/O (pkg/podhost writes the files).
package podvolume
