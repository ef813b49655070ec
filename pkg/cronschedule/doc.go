// Package cronschedule decides when a CronJob runs, as the CronJob
// controller does (pkg/controller/cronjob/utils.go of Kubernetes): the
// schedule is parsed by robfig/cron (the library the controller uses) in
// the CronJob's timeZone, and after a gap (minilet stopped, the host
// asleep) only the most recent missed time runs, and none older than
// startingDeadlineSeconds. It is pure: the caller gives the clock.
package cronschedule
