package podsandbox

import (
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/runtime"
)

// The kubelet's CPU conversions (pkg/kubelet/cm/helpers_linux.go).
const (
	minShares     = 2
	sharesPerCPU  = 1024
	milliPerCPU   = 1000
	quotaPeriodUs = 100000
	minQuotaUs    = 1000
)

// Resources converts a container's requests and limits into cgroup
// settings: cpu request → shares, cpu limit → CFS quota, memory limit →
// memory limit.
func Resources(c *v1.Container) runtime.Resources {
	var r runtime.Resources
	r.CPUShares = minShares
	if q, ok := c.Resources.Requests[v1.ResourceCPU]; ok && !q.IsZero() {
		shares := uint64(q.MilliValue()) * sharesPerCPU / milliPerCPU
		if shares < minShares {
			shares = minShares
		}
		r.CPUShares = shares
	}
	if q, ok := c.Resources.Limits[v1.ResourceCPU]; ok && !q.IsZero() {
		quota := q.MilliValue() * quotaPeriodUs / milliPerCPU
		if quota < minQuotaUs {
			quota = minQuotaUs
		}
		r.CPUQuota = quota
		r.CPUPeriod = quotaPeriodUs
	}
	if q, ok := c.Resources.Limits[v1.ResourceMemory]; ok && !q.IsZero() {
		r.MemoryLimitBytes = q.Value()
	}
	return r
}
