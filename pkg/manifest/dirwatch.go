package manifest

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dirOp is what happened to a name in the watched directory.
type dirOp uint32

const (
	opCreate     dirOp = 1 << iota // made in place (open with O_CREAT): writes follow
	opWrite                        // written
	opCloseWrite                   // closed after being opened for writing: the write is complete
	opMovedIn                      // renamed into the directory: complete at once
	opGone                         // removed or renamed away
	opChmod                        // attributes changed
	opDirGone                      // the directory itself was removed or moved: watch it again
	opOverflow                     // the kernel dropped events: rescan
)

// dirEvent is one change in the watched directory.
type dirEvent struct {
	Name string // base name; "" for the directory itself
	Op   dirOp
}

func (o dirOp) has(x dirOp) bool { return o&x != 0 }

// dirWatch watches one directory with inotify. It is used instead of
// fsnotify because it reports IN_CLOSE_WRITE: a manifest written in place
// (cp, an editor) is complete when its writer closes it, so it can be read
// at once instead of after a quiet period.
type dirWatch struct {
	f      *os.File
	events chan dirEvent
	errs   chan error
	done   chan struct{}

	mu sync.Mutex
	wd int // -1 while not watching
}

// dirWatchMask is what the watch asks the kernel for.
const dirWatchMask = unix.IN_CREATE | unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_ATTRIB |
	unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

// newDirWatch makes an inotify instance and starts reading it; add a
// directory with add. Close ends it.
func newDirWatch() (*dirWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	// A non-blocking descriptor goes through the runtime's poller, so
	// Close wakes a pending Read.
	w := &dirWatch{f: os.NewFile(uintptr(fd), "inotify"), events: make(chan dirEvent, 64), errs: make(chan error, 1), done: make(chan struct{}), wd: -1}
	go w.read()
	return w, nil
}

// add watches dir (again, after it was gone).
func (w *dirWatch) add(dir string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var wd int
	err := w.control(func(fd int) (err error) {
		wd, err = unix.InotifyAddWatch(fd, dir, dirWatchMask)
		return err
	})
	if err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	w.wd = wd
	return nil
}

func (w *dirWatch) control(fn func(fd int) error) error {
	rc, err := w.f.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	if err := rc.Control(func(fd uintptr) { opErr = fn(int(fd)) }); err != nil {
		return err
	}
	return opErr
}

// Close stops the watch; the events channel closes.
func (w *dirWatch) Close() error {
	close(w.done)
	return w.f.Close()
}

// read decodes the kernel's events until the watch is closed.
func (w *dirWatch) read() {
	defer close(w.events)
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				select {
				case w.errs <- fmt.Errorf("read inotify events: %w", err):
				default:
				}
			}
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			raw := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := ""
			if raw.Len > 0 {
				b := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(raw.Len)]
				for i, c := range b {
					if c == 0 {
						b = b[:i]
						break
					}
				}
				name = string(b)
			}
			off += unix.SizeofInotifyEvent + int(raw.Len)
			if op := w.translate(raw.Mask, int(raw.Wd)); op != 0 {
				select {
				case w.events <- dirEvent{Name: name, Op: op}:
				case <-w.done:
					return
				}
			}
		}
	}
}

// translate maps an inotify mask to dirOps; events of a watch that was
// replaced are dropped.
func (w *dirWatch) translate(mask uint32, wd int) dirOp {
	if mask&unix.IN_Q_OVERFLOW != 0 {
		return opOverflow
	}
	w.mu.Lock()
	current := wd == w.wd
	if current && mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_IGNORED) != 0 {
		w.wd = -1
	}
	w.mu.Unlock()
	if !current {
		return 0
	}
	var op dirOp
	if mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_IGNORED) != 0 {
		op |= opDirGone
	}
	if mask&unix.IN_CREATE != 0 {
		op |= opCreate
	}
	if mask&unix.IN_MODIFY != 0 {
		op |= opWrite
	}
	if mask&unix.IN_CLOSE_WRITE != 0 {
		op |= opCloseWrite
	}
	if mask&unix.IN_MOVED_TO != 0 {
		op |= opMovedIn
	}
	if mask&(unix.IN_DELETE|unix.IN_MOVED_FROM) != 0 {
		op |= opGone
	}
	if mask&unix.IN_ATTRIB != 0 {
		op |= opChmod
	}
	return op
}

// watching reports whether the directory is watched.
func (w *dirWatch) watching() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.wd >= 0
}
