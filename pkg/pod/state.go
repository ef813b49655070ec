package pod

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/devices"
	"github.com/minilet/minilet/pkg/podsandbox"
)

// podRecord is what a pod's state directory remembers, so a restarted
// daemon can adopt the pod, or stop it gracefully if its manifest is gone.
type podRecord struct {
	Pod       *v1.Pod  `json:"pod"`
	File      string   `json:"file"`
	Hash      string   `json:"hash"`
	NetnsPath string   `json:"netnsPath,omitempty"`
	PodIPs    []string `json:"podIPs,omitempty"`
	// Devices are the extended resources admission gave the pod, held
	// until its worker is gone.
	Devices *devices.Assignment `json:"devices,omitempty"`
	// RestartedAt is when `minilet restart pod` last asked for the pod's
	// containers to run again: attempts started before it are stopped and
	// started again, until none is left.
	// (time.Time, not metav1.Time: to the nanosecond, not the second).
	RestartedAt *time.Time `json:"restartedAt,omitempty"`
	// SpecChangedAt is when the API server last changed an image of
	// the running pod, or its resources were resized: a container running
	// then with its old image (or resources its resizePolicy restarts it
	// for) is killed and started again with the new ones.
	SpecChangedAt *time.Time `json:"specChangedAt,omitempty"`
	// Evicted is the node-pressure eviction of the pod, if any: its
	// containers stop for good and it is Failed (Evicted).
	Evicted *evictionRecord `json:"evicted,omitempty"`
}

func (r podRecord) restartAt() time.Time {
	if r.RestartedAt == nil {
		return time.Time{}
	}
	return *r.RestartedAt
}

func (r podRecord) specChangedAt() time.Time {
	if r.SpecChangedAt == nil {
		return time.Time{}
	}
	return *r.SpecChangedAt
}

func recordPath(p podsandbox.Paths) string { return p.PodFile() }

func saveRecord(p podsandbox.Paths, r podRecord) error {
	if err := os.MkdirAll(p.StateDir, 0o750); err != nil {
		return fmt.Errorf("save pod state: %w", err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("save pod state: %w", err)
	}
	return writeFileRenamed(recordPath(p), data, 0o600)
}

// writeFileRenamed writes path through a temporary file and a rename, so a
// reader (or a daemon started after a crash) sees the old record or the
// new one, never half of one.
func writeFileRenamed(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err != nil {
		return fmt.Errorf("save pod state: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("save pod state: %w", err)
	}
	return nil
}

func loadRecord(path string) (podRecord, error) {
	var r podRecord
	data, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	if r.Pod == nil {
		return r, fmt.Errorf("%s: no pod", path)
	}
	return r, nil
}

// listRecords loads every pod.json under <rootDir>/pods.
func listRecords(rootDir string) (map[string]podRecord, []error) {
	out := map[string]podRecord{}
	var errs []error
	dirs, _ := filepath.Glob(filepath.Join(rootDir, "pods", "*", "pod.json"))
	for _, path := range dirs {
		r, err := loadRecord(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[string(r.Pod.UID)] = r
	}
	return out, errs
}
