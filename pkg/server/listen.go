package server

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"
)

// SocketName is the file name of the API socket in the run directory.
const SocketName = "minilet.sock"

// SocketPath returns the path of the API socket in runDir.
func SocketPath(runDir string) string { return filepath.Join(runDir, SocketName) }

// Listen creates the API socket in runDir (made 0700 if missing) and
// listens on it. A stale socket left by a dead daemon is replaced; a live
// one is an error.
//
// The socket is bound in a private 0700 directory, made 0600 there, and
// only then renamed into place, so there is never a moment when a
// permissive umask leaves it open to other users, and no process-wide
// umask change either. Closing the listener removes the socket, unless
// another daemon has replaced it since.
func Listen(runDir string) (net.Listener, error) {
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return nil, fmt.Errorf("make run directory %s: %w", runDir, err)
	}
	sock := SocketPath(runDir)
	if err := removeStaleSocket(sock); err != nil {
		return nil, err
	}
	tmpDir, err := os.MkdirTemp(runDir, ".sock-")
	if err != nil {
		return nil, fmt.Errorf("make private directory for the API socket: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	tmpSock := filepath.Join(tmpDir, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmpSock, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", tmpSock, err)
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(tmpSock, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod API socket: %w", err)
	}
	if err := os.Rename(tmpSock, sock); err != nil {
		ln.Close()
		return nil, fmt.Errorf("move API socket to %s: %w", sock, err)
	}
	fi, err := os.Lstat(sock)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("stat API socket: %w", err)
	}
	return &socketListener{UnixListener: ln, path: sock, file: fi}, nil
}

// removeStaleSocket removes path if it is a socket nobody answers on.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket; remove it", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("another minilet daemon is serving on %s", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}

// socketListener removes its socket file when closed, if it is still the
// file it created.
type socketListener struct {
	*net.UnixListener
	path string
	file os.FileInfo
}

// Addr is the socket's final path, not the private one it was bound at.
func (l *socketListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

func (l *socketListener) Close() error {
	err := l.UnixListener.Close()
	if fi, serr := os.Lstat(l.path); serr == nil && os.SameFile(fi, l.file) {
		if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("remove API socket: %w", rerr)
		}
	}
	return err
}
