package containerd

import (
	"context"
	"fmt"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	"tags.cncf.io/container-device-interface/pkg/cdi"
)

// cdiOpts injects CDI devices: the specs are read again at each use, so a
// spec written after minilet started counts.
func (r *Runtime) cdiOpts(devices []string) []oci.SpecOpts {
	if len(devices) == 0 {
		return nil
	}
	return []oci.SpecOpts{func(_ context.Context, _ oci.Client, _ *containers.Container, sp *oci.Spec) error {
		if len(r.opts.CDISpecDirs) == 0 {
			return fmt.Errorf("CDI devices %v asked for, but no CDI spec directories are configured", devices)
		}
		cache, _ := cdi.NewCache(cdi.WithSpecDirs(r.opts.CDISpecDirs...), cdi.WithAutoRefresh(false))
		if unresolved, err := cache.InjectDevices(sp, devices...); err != nil {
			return fmt.Errorf("inject CDI devices %v (unresolved %v): %w", devices, unresolved, err)
		}
		return nil
	}}
}
