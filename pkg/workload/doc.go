// Package workload runs the controllers of the workload kinds minilet
// reads from manifest files (Deployment, ReplicaSet, StatefulSet,
// DaemonSet, Job, CronJob) on this one node: each turns a workload and the pods that exist into the pods that
// should exist, as the Kubernetes controllers of the same kinds do.
//
// The controllers are pure functions over a Record (what minilet keeps of
// a workload across restarts: its UID, ReplicaSets, the pods it made with
// their UIDs, a Job's counts) and the pods the pod manager runs; the
// Manager persists each changed Record before it hands the pods on, so a
// daemon killed at any instant finds the same pods (same names and UIDs)
// and neither restarts nor runs anything twice.
//
// The Manager sits between the manifest source and the pod manager: it
// receives each desired State, adds the controllers' pods to the file's
// pods, and sends the result on.
package workload
