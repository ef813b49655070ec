package containerd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// shimSocketDir is where runc v2 shims put their sockets
// (containerd's defaults.DefaultStateDir + "/s", whatever containerd's own
// state directory is).
const shimSocketDir = "/run/containerd/s"

// EndGroups ends the shims of the groups whose ID starts with prefix (a
// pod's sandboxes) once none of their containers is left. containerd asks a shim to exit when it deletes the
// shim's last task; a delete cut short (the daemon killed while containerd
// deleted the task) leaves the shim with nothing to serve, forever, and
// neither containerd nor its restart will end it. EndGroup finds it by its
// command line (this containerd's address and namespace, the group's ID),
// asks it to exit (SIGTERM), kills it after a grace, and removes its
// socket.
func (r *Runtime) EndGroups(ctx context.Context, prefix string) error {
	shims, err := r.shimsOf(prefix)
	if err != nil || len(shims) == 0 {
		return err
	}
	var pids []int
	for pid, group := range shims {
		r.log.Warn("ending the shim left behind by an interrupted delete", zap.String("group", group), zap.Int("pid", pid))
		_ = syscall.Kill(pid, syscall.SIGTERM)
		pids = append(pids, pid)
	}
	deadline := time.Now().Add(2 * time.Second)
	for _, pid := range pids {
		for processAlive(pid) && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
		if processAlive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	var errs []error
	for _, group := range shims {
		sum := sha256.Sum256([]byte(filepath.Join(r.opts.Address, r.opts.Namespace, group)))
		sock := filepath.Join(shimSocketDir, fmt.Sprintf("%x", sum))
		if err := os.Remove(sock); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove the socket of shim %s: %w", group, err))
		}
	}
	return errors.Join(errs...)
}

// shimsOf finds the shim processes of the groups starting with prefix:
// containerd-shim-* with -namespace and -address naming this runtime, and
// -id the group. It maps their PIDs to their groups.
func (r *Runtime) shimsOf(prefix string) (map[int]string, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	out := map[int]string{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte("containerd-shim")) {
			continue
		}
		args := bytes.Split(bytes.TrimRight(b, "\x00"), []byte{0})
		if !bytes.Contains(args[0], []byte("containerd-shim")) {
			continue
		}
		id := argAfter(args, "-id")
		if strings.HasPrefix(id, prefix) && argAfter(args, "-namespace") == r.opts.Namespace && argAfter(args, "-address") == r.opts.Address {
			out[pid] = id
		}
	}
	return out, nil
}

func argAfter(args [][]byte, flag string) string {
	for i := 0; i+1 < len(args); i++ {
		if string(args[i]) == flag {
			return string(args[i+1])
		}
	}
	return ""
}

// processAlive reports whether pid runs (a zombie counts as gone).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}
