package node

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ReadSystemInfo reads the host's identity: kernel release, the
// distribution's PRETTY_NAME, machine ID, system UUID and boot ID.
// Missing files leave their field empty (the system UUID is readable by
// root only); nothing here is worth failing for.
func ReadSystemInfo() SystemInfo {
	s := readSystemInfo(realHost())
	var u unix.Utsname
	if err := unix.Uname(&u); err == nil {
		s.KernelVersion = unix.ByteSliceToString(u.Release[:])
	}
	return s
}

func readSystemInfo(p hostPaths) SystemInfo {
	s := SystemInfo{
		MachineID:  readTrimmed(p.machineID),
		SystemUUID: readTrimmed(p.productUUID),
		BootID:     readTrimmed(p.bootID),
	}
	for _, path := range p.osRelease {
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		s.OSImage = prettyName(data)
		break
	}
	if s.OSImage == "" {
		s.OSImage = "Linux" // os-release(5): the default PRETTY_NAME
	}
	return s
}

// prettyName is PRETTY_NAME of an os-release file, unquoted.
func prettyName(data []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "PRETTY_NAME=")
		if !ok {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil {
			return u
		}
		return strings.Trim(v, `"'`)
	}
	return ""
}

func readTrimmed(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}
