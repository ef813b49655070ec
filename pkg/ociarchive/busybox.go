package ociarchive

import (
	"fmt"
	"os"
	"path"
	"strings"
)

// defaultApplets are the busybox applets BusyboxFiles links when the caller
// names none: a shell, the usual file tools and the small network tools
// tests use (nc, httpd, wget).
func defaultApplets() []string {
	return []string{
		"sh", "ash", "sleep", "cat", "ls", "echo", "printf", "true", "false", "test", "[",
		"env", "id", "whoami", "hostname", "ps", "kill", "pidof", "mkdir", "rm", "rmdir", "touch",
		"cp", "mv", "ln", "chmod", "grep", "sed", "head", "tail", "wc", "sort", "date", "seq",
		"stat", "tee", "uname", "mount", "df", "du", "find", "xargs", "nc", "httpd", "wget",
		"ip", "ifconfig", "ping", "nslookup", "netstat", "timeout", "yes", "dd", "md5sum",
	}
}

// BusyboxFiles returns the files of a minimal busybox image: the binary at
// busyboxPath (which must be statically linked) installed as /bin/busybox,
// one symlink /bin/<applet> -> /bin/busybox per applet (an applet holding a
// slash, such as "/usr/bin/env", is linked at that path instead), an empty
// /tmp with mode 1777, and /etc/passwd and /etc/group naming root and nobody.
// A nil applets links a default set including sh, sleep, cat, ls, echo, nc,
// httpd and wget.
func BusyboxFiles(busyboxPath string, applets []string) ([]File, error) {
	data, err := os.ReadFile(busyboxPath)
	if err != nil {
		return nil, fmt.Errorf("read busybox binary: %w", err)
	}
	if applets == nil {
		applets = defaultApplets()
	}
	const bin = "/bin/busybox"
	files := []File{
		{Path: bin, Mode: 0o755, Data: data},
		{Path: "/tmp", Dir: true, Mode: 0o777 | os.ModeSticky},
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{Path: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{Path: "/root", Dir: true, Mode: 0o700},
	}
	seen := map[string]bool{bin: true}
	for _, a := range applets {
		if a == "" {
			return nil, fmt.Errorf("empty busybox applet name")
		}
		p := a
		if !strings.Contains(a, "/") {
			p = "/bin/" + a
		}
		p = path.Clean("/" + p)
		if seen[p] {
			continue // named twice, or "busybox" itself
		}
		seen[p] = true
		files = append(files, File{Path: p, Link: bin})
	}
	return files, nil
}
