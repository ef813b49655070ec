// Package probetest holds fakes for tests of pkg/probe and its consumers: a
// Clock whose time moves only when a test says so, an Execer answering from
// a function, and an EventRecorder that keeps what it is told.
package probetest
