// Package logdriver holds the source of minilet-log-driver, logdriver.c:
// the logging binary containerd's shim runs for each of minilet's
// containers, writing its stdout and stderr to a CRI log file that it
// rotates by size. It is built with
//
//	gcc -Os -static -o bin/minilet-log-driver logdriver/logdriver.c && strip bin/minilet-log-driver
//
// and does what pkg/containerlog's Go writer does (`minilet log-driver`,
// the fallback where the C program is not installed) at a fraction of the
// memory: a Go program costs about 2.5 MiB per container, this one well
// under 1 MiB. The Go package holds no code; its tests build the program
// and check it against the Go writer.
package logdriver
