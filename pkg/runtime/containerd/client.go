// Package containerd implements runtime.Runtime on containerd through its Go
// client. It is the only package of minilet that imports containerd.
//
// Every container lives in one containerd namespace (--containerd-namespace),
// so two daemons with different namespaces never see each other's pods. Task
// exits come from containerd's event stream, not from polling.
package containerd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/namespaces"
	"go.uber.org/zap"

	"github.com/minilet/minilet/pkg/runtime"
)

// Options configure a Runtime.
type Options struct {
	Address     string // containerd socket
	Namespace   string // containerd namespace holding minilet's containers
	Snapshotter string // "" → overlayfs
	RuntimeName string // "" → io.containerd.runc.v2
	// Credentials finds the registry credentials of a pull (nil:
	// anonymous pulls).
	Credentials Keychain
	// LogDriver is the absolute path of the minilet binary, whose
	// log-driver subcommand the shim runs to write a container's output in
	// the CRI format, rotated at LogMaxSize bytes keeping LogMaxFiles
	// files. "" writes raw output to the log file instead.
	LogDriver   string
	LogMaxSize  int64
	LogMaxFiles int
	// CDISpecDirs hold the CDI specs of devices containers may ask for
	// (ContainerSpec.CDIDevices); none: no CDI devices.
	CDISpecDirs []string
	// ExecDir holds the FIFOs of Exec; New releases and removes what a
	// killed daemon left there ("": <temp dir>/minilet-exec-<namespace>,
	// left as it is).
	ExecDir string
	// IODir holds the stdin fifos and attach sockets of containers with
	// stdin ("": <temp dir>/minilet-io-<namespace>).
	IODir string
}

// madeHere is what this process remembers of a container it made, to save
// round trips to containerd on the pod start path.
type madeHere struct {
	stdin   string // "true", "once" or "": the container's stdin
	logPath string
	tty     bool
	// unstarted is the container until a start was tried: it has no
	// task, so its first start needs neither a load nor a look for one.
	unstarted containerd.Container
}

// Runtime is a runtime.Runtime backed by containerd.
type Runtime struct {
	client *containerd.Client
	opts   Options
	log    *zap.Logger

	mu          sync.Mutex
	imageConfig map[string]runtime.ImageConfig // by config digest
	unpacked    map[string]bool                // manifest digests known unpacked
	images      map[string]containerd.Image    // by normalized ref, as last prepared
	made        map[string]madeHere            // container ID → what this process knows of a container it made
}

var _ runtime.Runtime = (*Runtime)(nil)

// New connects to containerd. It does not wait for containerd to answer:
// the gRPC connection is made lazily and re-established after containerd
// restarts.
func New(opts Options, log *zap.Logger) (*Runtime, error) {
	if opts.Snapshotter == "" {
		opts.Snapshotter = "overlayfs"
	}
	if opts.RuntimeName == "" {
		opts.RuntimeName = "io.containerd.runc.v2"
	}
	c, err := containerd.New(opts.Address,
		containerd.WithDefaultNamespace(opts.Namespace),
		containerd.WithTimeout(0))
	if err != nil {
		return nil, fmt.Errorf("connect to containerd at %s: %w", opts.Address, err)
	}
	r := &Runtime{client: c, opts: opts, log: log, imageConfig: map[string]runtime.ImageConfig{},
		unpacked: map[string]bool{}, images: map[string]containerd.Image{}, made: map[string]madeHere{}}
	if opts.ExecDir != "" {
		// The daemon owns its ExecDir: what a killed daemon left goes.
		if err := r.prepareExecDir(); err != nil {
			c.Close()
			return nil, err
		}
	}
	return r, nil
}

// Close closes the connection to containerd.
func (r *Runtime) Close() error { return r.client.Close() }

// ctx scopes a context to minilet's containerd namespace.
func (r *Runtime) ctx(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, r.opts.Namespace)
}

// Ping reports whether containerd answers.
func (r *Runtime) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(r.ctx(ctx), 2*time.Second)
	defer cancel()
	ok, err := r.client.IsServing(ctx)
	if err != nil || !ok {
		return fmt.Errorf("containerd at %s: %w", r.opts.Address, errors.Join(runtime.ErrUnavailable, err))
	}
	return nil
}

// Version reports containerd's version.
func (r *Runtime) Version(ctx context.Context) (string, error) {
	v, err := r.client.Version(r.ctx(ctx))
	if err != nil {
		return "", wrap(err)
	}
	return "containerd " + v.Version, nil
}

// wrap maps containerd's errors onto the runtime package's sentinels.
func wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errdefs.IsNotFound(err):
		return fmt.Errorf("%w: %v", runtime.ErrNotFound, err)
	case errdefs.IsAlreadyExists(err):
		return fmt.Errorf("%w: %v", runtime.ErrAlreadyExists, err)
	case errdefs.IsUnavailable(err):
		return fmt.Errorf("%w: %v", runtime.ErrUnavailable, err)
	}
	return err
}
