// Package runtime defines the container runtime that minilet's pod logic
// consumes: neutral types, the Runtime interface and sentinel errors. It
// imports nothing from containerd; pkg/runtime/containerd implements it and
// pkg/runtime/runtimetest fakes it for unit tests.
package runtime

import (
	"context"
	"errors"
	"io"
	"time"
)

// Sentinel errors that implementations wrap, so callers test with errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	ErrUnavailable   = errors.New("runtime unavailable")
	// ErrTaskLeftover: the container's task cannot be made because the
	// runtime kept state of an earlier attempt to make it that it can
	// neither load nor remove (containerd killed while it made the task).
	// The container ID is unusable until the runtime restarts: make the
	// container anew under another ID.
	ErrTaskLeftover = errors.New("task state left behind by the runtime")
)

// PullPolicy mirrors a container's imagePullPolicy.
type PullPolicy string

const (
	PullAlways       PullPolicy = "Always"
	PullIfNotPresent PullPolicy = "IfNotPresent"
	PullNever        PullPolicy = "Never"
)

// Image is a local image as the runtime sees it.
type Image struct {
	Ref    string // the name it is known by, e.g. docker.io/library/busybox:1.36
	ID     string // config digest, "sha256:..."
	Digest string // manifest (target) digest, "sha256:..."
	Size   int64  // bytes of content
	Config ImageConfig
	Pulled bool // set by EnsureImage when this call pulled the image
}

// ImageConfig is the part of an OCI image config that decides how a
// container runs.
type ImageConfig struct {
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
	StopSignal string
}

// Mount is a bind or tmpfs mount into a container.
type Mount struct {
	Source      string
	Destination string
	Type        string // "bind" (default) or "tmpfs"
	Options     []string
}

// NamespaceMode says which namespace a container uses for one kind.
// Exactly one of Path and Host may be set; neither means a new namespace.
type NamespaceMode struct {
	Path string // join the namespace at this path (/proc/<pid>/ns/net, a netns file)
	Host bool   // use the host's namespace
}

// Namespaces lists a container's namespace choices.
type Namespaces struct {
	Network NamespaceMode
	IPC     NamespaceMode
	UTS     NamespaceMode
	PID     NamespaceMode
}

// Resources are the cgroup settings of a container.
type Resources struct {
	CPUShares        uint64 // 0: runtime default
	CPUQuota         int64  // microseconds per CPUPeriod; 0: unlimited
	CPUPeriod        uint64
	MemoryLimitBytes int64 // 0: unlimited
	OOMScoreAdj      *int  // best effort
}

// Security is a container's security context, already resolved to what the
// OCI runtime applies.
type Security struct {
	Privileged bool
	RunAsUser  *int64
	RunAsGroup *int64
	// ImageUser is the image's USER (name, uid, user:group), the user
	// when RunAsUser is not set; "" is root.
	ImageUser string
	// MergeImageGroups adds the groups the image's /etc/group lists the
	// user in (supplementalGroupsPolicy Merge, the default).
	MergeImageGroups bool
	SupplementalGIDs []int64
	CapAdd           []string // "CAP_NET_ADMIN" form
	CapDrop          []string // "ALL" drops every default capability
	ReadOnlyRootfs   bool
	NoNewPrivileges  bool
	SeccompProfile   string // "" or "RuntimeDefault": containerd's default; "Unconfined"; "Localhost"
	SeccompLocalhost string // Localhost: the profile's file (OCI LinuxSeccomp JSON)
	MaskedPathsOff   bool   // procMount: Unmasked
	// AppArmorProfile is "" (none), "runtime/default" (containerd's
	// profile) or "localhost/<name>" (a profile loaded on the host).
	AppArmorProfile string
	SELinuxLabel    string // process label user:role:type:level; "" none
}

// ContainerSpec is everything the runtime needs to create one container.
// pkg/podsandbox builds it from a Pod; the runtime does not know about Pods.
type ContainerSpec struct {
	ID           string // unique within the runtime's namespace
	Image        string // image reference, already present (see EnsureImage)
	Args         []string
	Env          []string // "KEY=value", image env already merged
	WorkingDir   string
	Hostname     string
	Mounts       []Mount
	Namespaces   Namespaces
	Resources    Resources
	Security     Security
	CgroupParent string            // cgroup path of the pod, e.g. /minilet/pod<uid>
	Labels       map[string]string // stored on the container, used to adopt it later
	Annotations  map[string]string // OCI spec annotations (shim grouping)
	LogPath      string            // file that receives stdout/stderr; "" discards them
	TTY          bool
	// Stdin keeps the container's terminal input open for attach
	// clients (minilet attach -i); StdinOnce closes it when the first
	// one leaves.
	Stdin, StdinOnce bool
	// Sysctls are set in the container's namespaces (a pause container's,
	// which its pod's containers share).
	Sysctls map[string]string
	// CDIDevices are fully qualified CDI device names
	// (vendor.com/class=name) whose edits (device nodes, mounts, env) the
	// runtime applies.
	CDIDevices []string
}

// ContainerState is a container's task state.
type ContainerState string

const (
	StateCreated ContainerState = "created" // container exists, no task or task not started
	StateRunning ContainerState = "running"
	StateExited  ContainerState = "exited"
	StateUnknown ContainerState = "unknown"
)

// Container is a container as listed by the runtime.
type Container struct {
	ID         string
	Image      string
	ImageID    string
	Labels     map[string]string
	CreatedAt  time.Time
	State      ContainerState
	PID        uint32
	StartedAt  time.Time // zero unless known
	ExitCode   int32
	FinishedAt time.Time
	OOMKilled  bool
}

// Exit is a task exit seen on the runtime's event stream.
type Exit struct {
	ContainerID string
	PID         uint32
	ExitCode    int32
	ExitedAt    time.Time
}

// ExecResult is the outcome of a command run in a container.
type ExecResult struct {
	ExitCode int32
	Output   []byte // combined stdout and stderr, capped
	TimedOut bool
}

// TerminalSize is a terminal's size in characters.
type TerminalSize struct{ Width, Height uint16 }

// ExecStreams are what an interactive command reads and writes.
type ExecStreams struct {
	Stdin  io.Reader // nil: the command gets no stdin
	Stdout io.Writer // nil: discarded
	Stderr io.Writer // nil: discarded; with TTY the terminal merges it into Stdout
	TTY    bool
	Resize <-chan TerminalSize // terminal sizes, the first one at once; may be nil
}

// AttachStreams are what an attach client sends a container with stdin.
type AttachStreams struct {
	Stdin  io.Reader
	Resize <-chan TerminalSize // may be nil
}

// Credential is a registry login a pull may use: a user and password, or
// an identity token (an empty User). It is never logged.
type Credential struct {
	User, Secret string
}

// Runtime is what minilet's pod logic needs from a container runtime.
// Implementations are safe for concurrent use.
type Runtime interface {
	// EnsureImage makes ref present according to policy and returns it.
	// A pull tries creds (a pod's imagePullSecrets that match the image)
	// in order, then the daemon's own credentials.
	EnsureImage(ctx context.Context, ref string, policy PullPolicy, creds ...Credential) (Image, error)
	// ListImages lists local images.
	ListImages(ctx context.Context) ([]Image, error)

	// CreateContainer creates a container (not its task). ErrAlreadyExists
	// if the ID is taken; a snapshot left by an earlier create that never
	// wrote its container is replaced.
	CreateContainer(ctx context.Context, spec ContainerSpec) error
	// StartContainer starts the container's task and returns its PID,
	// whatever state an earlier call left it in: a task made but not
	// started is started, an exited or unknown one is replaced, a running
	// one is kept.
	StartContainer(ctx context.Context, id string) (uint32, error)
	// StopContainer sends signal (empty: SIGTERM), waits up to grace for the
	// task to exit, then sends SIGKILL and waits again. A container with no
	// running task is not an error.
	StopContainer(ctx context.Context, id string, signal string, grace time.Duration) error
	// UpdateResources gives the running task of container id the cgroup
	// settings r (zero quota or memory limit: unlimited), then sets labels
	// on the container. ErrNotFound if the container or its task is gone.
	UpdateResources(ctx context.Context, id string, r Resources, labels map[string]string) error
	// RemoveContainer deletes the task, the container and its snapshot.
	// ErrNotFound is not returned for a container already gone.
	RemoveContainer(ctx context.Context, id string) error
	// ContainerStatus reports one container.
	ContainerStatus(ctx context.Context, id string) (Container, error)
	// ListContainers lists the containers whose labels include all of
	// selector (nil: all of the runtime's namespace).
	ListContainers(ctx context.Context, selector map[string]string) ([]Container, error)
	// ListSnapshots lists the keys of the runtime's container snapshots
	// that start with prefix, with or without a container.
	ListSnapshots(ctx context.Context, prefix string) ([]string, error)
	// RemoveSnapshot removes a snapshot that no container uses. A snapshot
	// already gone is not an error.
	RemoveSnapshot(ctx context.Context, key string) error
	// EndGroups ends what the runtime still runs for the groups of
	// containers whose ID starts with prefix (a pod's shims), once none of
	// their containers is left. Nothing left to end is not an error.
	EndGroups(ctx context.Context, prefix string) error
	// Exec runs cmd in the running container id, killing it after timeout.
	Exec(ctx context.Context, id string, cmd []string, timeout time.Duration) (ExecResult, error)
	// ExecStream runs cmd in the running container id with s until it
	// exits and returns its exit code. When Stdin ends the command's stdin
	// is closed. When ctx ends the command and what it started are killed.
	ExecStream(ctx context.Context, id string, cmd []string, s ExecStreams) (int32, error)
	// AttachStdin copies s.Stdin into the terminal input of the running
	// container id (made with Stdin) until it ends or ctx ends, and
	// resizes its terminal as s.Resize says.
	AttachStdin(ctx context.Context, id string, s AttachStreams) error

	// Exits streams task exits until ctx ends. After a reconnect, callers
	// should re-check containers, since exits may have been missed.
	Exits(ctx context.Context) (<-chan Exit, error)
	// Ping reports whether the runtime answers.
	Ping(ctx context.Context) error
	// Version reports the runtime's name and version.
	Version(ctx context.Context) (string, error)
}
