package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/printers"
	"github.com/minilet/minilet/pkg/server"
)

// podWatch is what `minilet get pods -w` prints and where.
type podWatch struct {
	client    *server.Client
	namespace string // "" for every namespace
	name      string // "" for every pod of the namespace
	selector  server.PodSelector
	opts      printers.Options
	watchOnly bool // leave out the pods there are when the watch starts
	out       io.Writer
	errOut    io.Writer

	initial []v1.Pod // ADDED before the bookmark: the pods there are now
	started bool     // the bookmark came: every event from now on is a change
	printed int      // objects printed, for yaml's separators
}

// watchPods prints the pods there are, as `get pods` does, then one more
// row (or object) for each change, like kubectl get -w, until ctx ends.
func watchPods(ctx context.Context, w *podWatch, names []string) error {
	if len(names) > 1 {
		return fmt.Errorf("watch is only supported on individual resources and resource collections, but %d resources were found", len(names))
	}
	if len(names) == 1 {
		w.name = names[0]
		// Like kubectl, a pod that is not there is an error, not a wait.
		if _, err := w.client.GetPod(ctx, w.namespace, w.name); err != nil {
			return cliError(err)
		}
	}
	err := w.client.WatchPodsWhere(ctx, w.namespace, w.name, w.selector, w.event)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil // interrupted: the usual end of a watch
	}
	return cliError(err)
}

func (w *podWatch) event(typ string, pod *v1.Pod) error {
	if w.started {
		return w.print([]v1.Pod{*pod})
	}
	if typ != "BOOKMARK" {
		w.initial = append(w.initial, *pod)
		return nil
	}
	w.started = true
	if len(w.initial) == 0 {
		if w.name == "" && !w.watchOnly && w.opts.Format != printers.FormatJSON && w.opts.Format != printers.FormatYAML {
			noResources(w.errOut, w.namespace)
		}
		return nil
	}
	if w.watchOnly {
		return nil
	}
	return w.print(w.initial)
}

// print writes pods: a table, with its header the first time only, or
// each object on its own for json, yaml and name.
func (w *podWatch) print(pods []v1.Pod) error {
	opts := w.opts
	switch opts.Format {
	case printers.FormatJSON, printers.FormatYAML, printers.FormatName:
		opts.Single = true
		for i := range pods {
			if opts.Format == printers.FormatYAML && w.printed > 0 {
				if _, err := io.WriteString(w.out, "---\n"); err != nil {
					return fmt.Errorf("write: %w", err)
				}
			}
			if err := printers.PrintPods(w.out, pods[i:i+1], opts, time.Now()); err != nil {
				return err
			}
			w.printed++
		}
		return nil
	}
	if w.printed > 0 {
		opts.NoHeaders = true
	}
	w.printed += len(pods)
	return printers.PrintPods(w.out, pods, opts, time.Now())
}
