package containerd

// Labels this package keeps on containers for its own bookkeeping.
const (
	labelLogPath   = "minilet.io/log-path"
	labelStartedAt = "minilet.io/started-at" // RFC3339Nano, set when the task starts
)
