// Package minilet is the root of the minilet module: a single-host pod
// agent. The daemon is in cmd/minilet; see README.md.
package minilet
