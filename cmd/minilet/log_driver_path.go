package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// findLogDriver finds the program the shims run to write container logs:
// the flag, else the small minilet-log-driver beside the minilet binary or
// in /usr/local/lib/minilet, else minilet itself (its hidden log-driver
// subcommand does the same work with a larger footprint per container).
func findLogDriver(flag string) (string, error) {
	if flag != "" {
		if !filepath.IsAbs(flag) {
			return "", fmt.Errorf("--log-driver %q: want an absolute path", flag)
		}
		return flag, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find minilet's own binary (it writes container logs): %w", err)
	}
	for _, c := range []string{filepath.Join(filepath.Dir(exe), "minilet-log-driver"), "/usr/local/lib/minilet/minilet-log-driver"} {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c, nil
		}
	}
	return exe, nil
}
