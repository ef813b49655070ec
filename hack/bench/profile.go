package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// saveProfile fetches one of the daemon's pprof profiles (path under
// /debug/pprof/, e.g. "heap" or "profile?seconds=20") into name in the
// -profile directory. Without -profile it does nothing. A profile that
// cannot be fetched is logged, not fatal: profiles are an aid, not a figure.
func (b *bench) saveProfile(ctx context.Context, path, name string, timeout time.Duration) {
	if b.profileDir == "" {
		return
	}
	if err := b.fetchProfile(ctx, path, filepath.Join(b.profileDir, name), timeout); err != nil {
		b.logf("profile %s: %v", name, err)
		return
	}
	b.logf("profile written: %s", filepath.Join(b.profileDir, name))
}

func (b *bench) fetchProfile(ctx context.Context, path, file string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.d.MetricsAddr+"/debug/pprof/"+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", req.URL, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
