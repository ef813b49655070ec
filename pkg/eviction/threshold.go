package eviction

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Signal is an eviction signal, spelled as the kubelet's.
type Signal string

// The signals minilet observes.
const (
	SignalMemoryAvailable   Signal = "memory.available"
	SignalNodeFsAvailable   Signal = "nodefs.available"
	SignalNodeFsInodesFree  Signal = "nodefs.inodesFree"
	SignalImageFsAvailable  Signal = "imagefs.available"
	SignalImageFsInodesFree Signal = "imagefs.inodesFree"
	SignalPIDAvailable      Signal = "pid.available"
)

// signals lists the supported signals in the order the kubelet ranks
// them when several are met: memory first.
var signals = []Signal{
	SignalMemoryAvailable, SignalNodeFsAvailable, SignalNodeFsInodesFree,
	SignalImageFsAvailable, SignalImageFsInodesFree, SignalPIDAvailable,
}

// refusedSignals are the kubelet's other signals, with why minilet has
// none of them.
var refusedSignals = map[string]string{
	"allocatableMemory.available": "minilet does not enforce node allocatable on a pods cgroup; use memory.available",
	"containerfs.available":       "containers' writable layers are on the image filesystem here; use imagefs.available",
	"containerfs.inodesFree":      "containers' writable layers are on the image filesystem here; use imagefs.inodesFree",
}

// Value is a threshold's amount: a quantity, or a percentage of the
// signal's capacity.
type Value struct {
	Quantity   *resource.Quantity
	Percentage float64 // 0..1, when Quantity is nil
}

// Of is the amount v stands for against capacity.
func (v Value) Of(capacity int64) int64 {
	if v.Quantity != nil {
		return v.Quantity.Value()
	}
	return int64(float64(capacity) * v.Percentage)
}

// String is v as the operator spelled it (100Mi, 10%).
func (v Value) String() string {
	if v.Quantity != nil {
		return v.Quantity.String()
	}
	return strconv.FormatFloat(v.Percentage*100, 'f', -1, 64) + "%"
}

// Threshold is one eviction threshold: the signal's available amount
// below Value is pressure. A hard threshold acts at once; a soft one once
// it has been met for GracePeriod.
type Threshold struct {
	Signal      Signal
	Value       Value
	Hard        bool
	GracePeriod time.Duration // soft thresholds only
	// MinReclaim is how much more than Value must be available before a
	// met threshold is no longer met (--eviction-minimum-reclaim).
	MinReclaim *Value
}

func (t Threshold) String() string {
	kind := "soft"
	if t.Hard {
		kind = "hard"
	}
	return fmt.Sprintf("%s %s<%s", kind, t.Signal, t.Value)
}

// DefaultHard is the kubelet's default --eviction-hard (Linux).
const DefaultHard = "memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%,imagefs.inodesFree<5%"

// Flags are the eviction flags as the operator wrote them.
type Flags struct {
	Hard, Soft, SoftGracePeriod, MinimumReclaim string
}

// ParseThresholds reads the kubelet's eviction flags:
// --eviction-hard and --eviction-soft ("signal<value,...", a value a
// quantity or a percentage), --eviction-soft-grace-period and
// --eviction-minimum-reclaim ("signal=value,..."). Unlike the kubelet,
// whose defaults all go as soon as --eviction-hard names one signal (its
// mergeDefaultEvictionSettings off), a signal the operator leaves out of
// --eviction-hard keeps its default; a value of 0 turns a signal off.
// Every mistake is an error naming the flag and the entry.
func ParseThresholds(f Flags) ([]Threshold, error) {
	hard, err := parseStatements("--eviction-hard", f.Hard)
	if err != nil {
		return nil, err
	}
	defaults, _ := parseStatements("--eviction-hard", DefaultHard)
	for s, v := range defaults {
		if _, ok := hard[s]; !ok {
			hard[s] = v
		}
	}
	soft, err := parseStatements("--eviction-soft", f.Soft)
	if err != nil {
		return nil, err
	}
	grace, err := parsePairs("--eviction-soft-grace-period", f.SoftGracePeriod)
	if err != nil {
		return nil, err
	}
	reclaim, err := parsePairs("--eviction-minimum-reclaim", f.MinimumReclaim)
	if err != nil {
		return nil, err
	}
	var out []Threshold
	for _, s := range signals {
		var mr *Value
		if text, ok := reclaim[s]; ok {
			v, err := parseValue(text)
			if err != nil {
				return nil, fmt.Errorf("--eviction-minimum-reclaim: %s=%s: %w", s, text, err)
			}
			mr = &v
		}
		if v, ok := hard[s]; ok && !v.zero() {
			out = append(out, Threshold{Signal: s, Value: v, Hard: true, MinReclaim: mr})
		}
		if v, ok := soft[s]; ok && !v.zero() {
			text, ok := grace[s]
			if !ok {
				return nil, fmt.Errorf("--eviction-soft: %s<%s has no grace period: add %s=<duration> to --eviction-soft-grace-period", s, v, s)
			}
			d, err := time.ParseDuration(text)
			if err != nil || d < 0 {
				return nil, fmt.Errorf("--eviction-soft-grace-period: %s=%s: not a duration (e.g. 1m30s)", s, text)
			}
			out = append(out, Threshold{Signal: s, Value: v, GracePeriod: d, MinReclaim: mr})
		}
	}
	for s := range grace {
		if _, ok := soft[s]; !ok {
			return nil, fmt.Errorf("--eviction-soft-grace-period: %s has no soft threshold in --eviction-soft", s)
		}
	}
	return out, nil
}

func (v Value) zero() bool {
	if v.Quantity != nil {
		return v.Quantity.IsZero()
	}
	return v.Percentage == 0
}

// parseStatements reads "signal<value,...".
func parseStatements(flag, text string) (map[Signal]Value, error) {
	items, err := parseItems(flag, text, "<", "want signal<value, e.g. memory.available<100Mi (the only operator is <)")
	if err != nil {
		return nil, err
	}
	out := map[Signal]Value{}
	for sig, val := range items {
		v, err := parseValue(val)
		if err != nil {
			return nil, fmt.Errorf("%s: \"%s<%s\": %w", flag, sig, val, err)
		}
		out[sig] = v
	}
	return out, nil
}

// parsePairs reads "signal=value,...".
func parsePairs(flag, text string) (map[Signal]string, error) {
	return parseItems(flag, text, "=", "want signal=value")
}

// parseItems reads "signal<sep>value,..." with known signals, each once.
func parseItems(flag, text, sep, shape string) (map[Signal]string, error) {
	out := map[Signal]string{}
	for _, item := range splitList(text) {
		name, val, ok := strings.Cut(item, sep)
		if !ok {
			return nil, fmt.Errorf("%s: %q: %s", flag, item, shape)
		}
		s, err := signalOf(strings.TrimSpace(name))
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", flag, item, err)
		}
		if _, dup := out[s]; dup {
			return nil, fmt.Errorf("%s: signal %s is given twice", flag, s)
		}
		out[s] = strings.TrimSpace(val)
	}
	return out, nil
}

func splitList(text string) []string {
	var out []string
	for _, item := range strings.Split(text, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func signalOf(name string) (Signal, error) {
	for _, s := range signals {
		if string(s) == name {
			return s, nil
		}
	}
	if why, ok := refusedSignals[name]; ok {
		return "", fmt.Errorf("signal %s is not supported: %s", name, why)
	}
	known := make([]string, len(signals))
	for i, s := range signals {
		known[i] = string(s)
	}
	sort.Strings(known)
	return "", fmt.Errorf("unsupported eviction signal %s (known: %s)", name, strings.Join(known, ", "))
}

func parseValue(text string) (Value, error) {
	if p, ok := strings.CutSuffix(text, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f < 0 || f > 100 {
			return Value{}, fmt.Errorf("percentage %q: want a number from 0 to 100 before %%", text)
		}
		return Value{Percentage: f / 100}, nil
	}
	q, err := resource.ParseQuantity(text)
	if err != nil {
		return Value{}, fmt.Errorf("value %q: want a quantity (100Mi, 1Gi, 5000) or a percentage (10%%)", text)
	}
	if q.Sign() < 0 {
		return Value{}, fmt.Errorf("value %q must not be negative", text)
	}
	return Value{Quantity: &q}, nil
}
