package server

// newFor builds a Server whose optional parts are whatever the test's fake
// source also implements.
func newFor(src PodSource, health HealthChecker) *Server {
	o := Options{Pods: src, Health: health}
	o.ManifestErrors, _ = src.(ManifestErrorSource)
	o.Logs, _ = src.(LogLocator)
	o.Node, _ = src.(NodeController)
	o.Objects, _ = src.(ObjectSource)
	o.Volumes, _ = src.(VolumeStore)
	o.Exec, _ = src.(Executor)
	o.Restarter, _ = src.(PodRestarter)
	return New(o)
}
