package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"go.uber.org/zap"

	"github.com/minilet/minilet/pkg/network"
	"github.com/minilet/minilet/pkg/podhost"
	rtcontainerd "github.com/minilet/minilet/pkg/runtime/containerd"
)

// resetHost removes what minilet made for the node once its pods are
// gone, saying what it removed; it goes on past a failure and returns
// them all.
func resetHost(ctx context.Context, g *globalFlags, f *daemonFlags, o resetOptions, out io.Writer) error {
	var errs []error
	fail := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	fail(resetContainerd(ctx, f, o, out))

	cfg := network.Config{ConfDir: f.cniConfDir, NetworkName: f.networkName, BridgeName: f.bridgeName, PodCIDR: f.podCIDR,
		CacheDir: filepath.Join(f.rootDir, "cni"), BinDirs: f.cniBinDirs}
	if path, removed, err := network.RemoveDefaultConflist(cfg); err != nil {
		fail(fmt.Errorf("CNI config %s: %w", path, err))
	} else if removed {
		fmt.Fprintf(out, "removed CNI config %s\n", path)
	}
	if removed, err := network.RemoveBridge(f.bridgeName); err != nil {
		fail(err)
	} else if removed {
		fmt.Fprintf(out, "removed bridge %s\n", f.bridgeName)
	}
	cg := "/minilet/" + f.containerdNamespace
	if err := podhost.RemoveCgroup(cg); err != nil {
		fail(fmt.Errorf("cgroup %s: %w", cg, err))
	} else {
		fmt.Fprintf(out, "removed cgroup %s\n", cg)
	}
	_ = podhost.RemoveCgroup("/minilet") // when no other namespace has one

	keep := ""
	if !o.volumes {
		keep = claimRoot(f)
	} else if err := removeTree(claimRoot(f), "", out); err != nil {
		fail(err)
	}
	for _, dir := range []string{g.runDir, f.rootDir} {
		fail(removeTree(dir, keep, out))
	}
	if keep != "" {
		if _, err := os.Stat(keep); err == nil {
			fmt.Fprintf(out, "kept the data of PersistentVolumeClaims in %s (--volumes removes it)\n", keep)
		}
	}
	return errors.Join(errs...)
}

// resetContainerd removes the containers and snapshots left in minilet's
// namespace, its images with --images, and the namespace once empty.
func resetContainerd(ctx context.Context, f *daemonFlags, o resetOptions, out io.Writer) error {
	rt, err := rtcontainerd.New(rtcontainerd.Options{Address: f.containerdAddress, Namespace: f.containerdNamespace}, zap.NewNop())
	if err != nil {
		return err
	}
	defer rt.Close()
	var errs []error
	cs, err := rt.ListContainers(ctx, nil)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := rt.StopContainer(ctx, c.ID, "SIGKILL", 0); err != nil {
			errs = append(errs, err)
		}
		if err := rt.RemoveContainer(ctx, c.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(out, "removed container %s\n", c.ID)
	}
	_ = rt.EndGroups(ctx, "")
	snaps, err := rt.ListSnapshots(ctx, "")
	if err != nil {
		errs = append(errs, err)
	}
	for _, k := range snaps {
		if err := rt.RemoveSnapshot(ctx, k); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(out, "removed snapshot %s\n", k)
	}
	if o.images {
		imgs, err := rt.ListImages(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		sort.Slice(imgs, func(i, j int) bool { return imgs[i].Ref < imgs[j].Ref })
		for _, im := range imgs {
			if err := rt.RemoveImage(ctx, im.Ref); err != nil {
				errs = append(errs, err)
				continue
			}
			fmt.Fprintf(out, "removed image %s\n", im.Ref)
		}
		if err := rt.RemoveNamespace(ctx); err != nil {
			errs = append(errs, err)
		} else {
			fmt.Fprintf(out, "removed containerd namespace %s\n", f.containerdNamespace)
		}
	}
	return errors.Join(errs...)
}

// removeTree unmounts what is mounted under dir, then removes it, except
// keep (a directory inside it, left with its parents).
func removeTree(dir, keep string, out io.Writer) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	for _, m := range mountsBelow(dir) {
		if keep != "" && (m == keep || strings.HasPrefix(m, keep+"/")) {
			continue
		}
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s: %w", m, err)
		}
		fmt.Fprintf(out, "unmounted %s\n", m)
	}
	if keep == "" || !strings.HasPrefix(keep, dir+"/") {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove %s: %w", dir, err)
		}
		fmt.Fprintf(out, "removed %s\n", dir)
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if p == keep {
			continue
		}
		if strings.HasPrefix(keep, p+"/") {
			if err := removeTree(p, keep, out); err != nil {
				return err
			}
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	fmt.Fprintf(out, "removed %s (but %s)\n", dir, keep)
	return nil
}

// mountsBelow lists the mount points at or below dir, deepest first.
func mountsBelow(dir string) []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		p := unescapeMount(fields[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &v); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
