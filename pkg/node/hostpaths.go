package node

// hostPaths are the files the host is read from. Tests point them at
// files of their own.
type hostPaths struct {
	meminfo     string
	pidMax      string
	threadsMax  string
	loadavg     string
	osRelease   []string // the first that exists wins
	machineID   string
	productUUID string
	bootID      string
}

// realHost are the kernel's and the distribution's own files.
func realHost() hostPaths {
	return hostPaths{
		meminfo:     "/proc/meminfo",
		pidMax:      "/proc/sys/kernel/pid_max",
		threadsMax:  "/proc/sys/kernel/threads-max",
		loadavg:     "/proc/loadavg",
		osRelease:   []string{"/etc/os-release", "/usr/lib/os-release"},
		machineID:   "/etc/machine-id",
		productUUID: "/sys/class/dmi/id/product_uuid",
		bootID:      "/proc/sys/kernel/random/boot_id",
	}
}
