package workload

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/minilet/minilet/pkg/podhost"
)

// store keeps Records as JSON files: <dir>/<kind>/<namespace>/<name>.json.
type store struct{ dir string }

func (s store) path(r *Record) string {
	m := r.Object.Meta()
	return filepath.Join(s.dir, strings.ToLower(r.Object.Kind()), m.Namespace, m.Name+".json")
}

// save writes r whole (a crash leaves the old or the new file). A Job's
// or CronJob's record is synced to disk, so that not even a power failure
// runs a finished Job again; the others are only renamed into place.
func (s store) save(r *Record, data []byte) error {
	p := s.path(r)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("save %s: %w", r.key(), err)
	}
	if r.Job != nil || r.Cron != nil {
		return podhost.WriteFileAtomic(p, data, 0o600)
	}
	return podhost.WriteFileRenamed(p, data, 0o600)
}

func (s store) remove(r *Record) error {
	if err := os.Remove(s.path(r)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the record of %s: %w", r.key(), err)
	}
	return nil
}

// load reads every record; a file that cannot be read is reported and
// skipped (its workload starts over).
func (s store) load() ([]*Record, []error) {
	var (
		out  []*Record
		errs []error
	)
	err := filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		r := new(Record)
		if err := json.Unmarshal(data, r); err != nil || (r.Object.Deployment == nil && r.Object.ReplicaSet == nil && r.Object.StatefulSet == nil && r.Object.DaemonSet == nil && r.Object.Job == nil && r.Object.CronJob == nil) {
			errs = append(errs, fmt.Errorf("workload record %s is unreadable (%v); the workload starts over", p, err))
			return nil
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return out, errs
}
