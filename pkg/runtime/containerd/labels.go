package containerd

// Labels this package keeps on containers for its own bookkeeping.
const (
	labelLogPath   = "minilet.io/log-path"
	labelTTY       = "minilet.io/tty"        // "true": the task gets a terminal
	labelStdin     = "minilet.io/stdin"      // "true" or "once": the task's terminal takes input
	labelStartedAt = "minilet.io/started-at" // RFC3339Nano, set when the task starts
)
