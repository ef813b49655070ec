// Package printers renders pods and events the way kubectl does: the
// `get pods` table (with its STATUS, READY, RESTARTS and AGE rules), -o
// json/yaml/name, and `describe pod`.
//
// Every function is pure: it writes to an io.Writer and takes the current
// time as a parameter, so output is deterministic in tests.
package printers
