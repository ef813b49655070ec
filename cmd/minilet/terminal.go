package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
	"k8s.io/client-go/tools/remotecommand"
)

// rawTerminal puts the terminal on fd in raw mode, as kubectl exec -t does,
// and returns what restores it.
func rawTerminal(fd int) (func(), error) {
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, err
	}
	return func() { _ = term.Restore(fd, state) }, nil
}

// terminalSizes is a remotecommand.TerminalSizeQueue over the size of the
// terminal on fd: its size at once, then one on each SIGWINCH, until ctx
// ends.
type terminalSizes struct {
	ch chan remotecommand.TerminalSize
}

func watchTerminalSize(ctx context.Context, fd int) *terminalSizes {
	q := &terminalSizes{ch: make(chan remotecommand.TerminalSize, 1)}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	send := func() {
		w, h, err := term.GetSize(fd)
		if err != nil {
			return
		}
		select {
		case q.ch <- remotecommand.TerminalSize{Width: uint16(w), Height: uint16(h)}:
		default: // the last one not taken yet will do
		}
	}
	send()
	go func() {
		defer signal.Stop(winch)
		defer close(q.ch)
		for {
			select {
			case <-winch:
				send()
			case <-ctx.Done():
				return
			}
		}
	}()
	return q
}

func (q *terminalSizes) Next() *remotecommand.TerminalSize {
	s, ok := <-q.ch
	if !ok {
		return nil
	}
	return &s
}
