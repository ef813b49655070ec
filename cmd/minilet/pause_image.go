package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/minilet/minilet/pkg/ociarchive"
	rtcontainerd "github.com/minilet/minilet/pkg/runtime/containerd"
)

// defaultPauseImage is minilet's own pause image, built from the pause
// program and imported into containerd, so no registry is needed.
func defaultPauseImage() string { return "localhost/minilet/pause:" + version }

// ensurePauseImage returns the pause image to use, importing minilet's own
// when it is the default and missing.
func ensurePauseImage(ctx context.Context, rt *rtcontainerd.Runtime, f *daemonFlags, log *zap.Logger) (string, error) {
	if f.pauseImage != "" {
		return f.pauseImage, nil
	}
	ref := defaultPauseImage()
	ok, err := rt.HasImage(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("look up pause image: %w", err)
	}
	if ok {
		return ref, nil
	}
	bin, err := findPauseBinary(f.pauseBinary)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return "", fmt.Errorf("read pause program: %w", err)
	}
	var buf bytes.Buffer
	err = ociarchive.Write(&buf, ref, []ociarchive.File{{Path: "/pause", Mode: 0o755, Data: data}},
		ociarchive.Config{Entrypoint: []string{"/pause"}})
	if err != nil {
		return "", fmt.Errorf("build pause image: %w", err)
	}
	if _, err := rt.ImportImages(ctx, &buf); err != nil {
		return "", fmt.Errorf("import pause image: %w", err)
	}
	log.Info("imported minilet's pause image", zap.String("image", ref), zap.String("from", bin))
	return ref, nil
}

// findPauseBinary finds the pause program: the flag, else "pause" beside
// the minilet binary, else the installed one.
func findPauseBinary(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "pause"))
	}
	candidates = append(candidates, "/usr/local/lib/minilet/pause")
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c, nil
		}
	}
	return "", errors.New("minilet's pause program was not found (looked beside the minilet binary and in /usr/local/lib/minilet); run `make install`, or set --pause-binary or --pause-image")
}
