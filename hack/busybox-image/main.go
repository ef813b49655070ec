// Command busybox-image writes an OCI image archive of busybox-static, for
// examples and tests on hosts that cannot reach a registry:
//
//	go run ./hack/busybox-image -o busybox.tar
//	minilet images import busybox.tar
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/minilet/minilet/pkg/ociarchive"
)

func main() {
	out := flag.String("o", "busybox.tar", "archive to write")
	ref := flag.String("ref", "localhost/minilet/busybox:1", "image name")
	bin := flag.String("busybox", "/bin/busybox", "a statically linked busybox (Debian: busybox-static)")
	flag.Parse()
	if err := run(*out, *ref, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "busybox-image:", err)
		os.Exit(1)
	}
}

func run(out, ref, bin string) error {
	files, err := ociarchive.BusyboxFiles(bin, nil)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := ociarchive.Write(f, ref, files, ociarchive.Config{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
