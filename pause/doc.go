// Package pause holds the source of minilet's pause program, pause.c.
//
// The program is the first process of every pod sandbox: it keeps the pod's
// namespaces alive and, as PID 1 of the pod's PID namespace, reaps orphaned
// children. It is built with
//
//	gcc -Os -static -o bin/pause pause/pause.c && strip bin/pause
//
// The Go package holds no code; its tests build and exercise the program.
package pause
