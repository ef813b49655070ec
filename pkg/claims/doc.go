// Package claims keeps the data of PersistentVolumeClaims on this host:
// one directory per claim, <root>/<namespace>/<claim>, made by the first
// pod that mounts it (pkg/podhost) and kept across pods, manifest edits
// and daemon restarts until an operator removes it (minilet volumes rm).
// Removing a claim's document never removes its data.
package claims
