// Package probetest holds fakes for tests of pkg/probe and its consumers:
// an Execer answering from a function, and an EventRecorder that keeps what
// it is told. The fake clock is clocktest's.
package probetest
