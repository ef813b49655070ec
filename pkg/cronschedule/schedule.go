package cronschedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Parse reads a five-field schedule (or @hourly, @daily, ...) in timeZone
// ("" is the local time of the host, as the controller's). A schedule that
// names its own TZ= or CRON_TZ= is refused, as the API server refuses it:
// the timeZone field says it.
func Parse(schedule, timeZone string) (cron.Schedule, error) {
	s := strings.TrimSpace(schedule)
	if strings.Contains(s, "TZ=") {
		return nil, errors.New("cannot use TZ or CRON_TZ in schedule, use the timeZone field instead")
	}
	if timeZone != "" {
		if _, err := time.LoadLocation(timeZone); err != nil {
			return nil, fmt.Errorf("unknown time zone %q: %w", timeZone, err)
		}
		s = "TZ=" + timeZone + " " + s
	}
	sched, err := cron.ParseStandard(s)
	if err != nil {
		return nil, fmt.Errorf("unparseable schedule %q: %w", schedule, err)
	}
	return sched, nil
}

// State is what the decision needs of a CronJob.
type State struct {
	Created      time.Time  // the CronJob's creation
	LastSchedule *time.Time // status.lastScheduleTime; nil: never ran
	// StartingDeadline is spec.startingDeadlineSeconds (nil: none): a
	// time missed by more than this is not run.
	StartingDeadline *time.Duration
}

// maxMissed is how many missed times the controller counts before it
// says too many (and still runs only the most recent).
const maxMissed = 100

// Due is one decision.
type Due struct {
	// Run is the scheduled time to run now (nil: none is due): the most
	// recent one missed since the last run, never an older one.
	Run *time.Time
	// TooMany: more than 100 times were missed (the controller warns).
	TooMany bool
	// Next is the first scheduled time after now: when to look again.
	Next time.Time
}

// Decide is the controller's mostRecentScheduleTime and next wake-up for
// now.
func Decide(s cron.Schedule, st State, now time.Time) (Due, error) {
	earliest := st.Created
	if st.LastSchedule != nil {
		earliest = *st.LastSchedule
	}
	if st.StartingDeadline != nil {
		// Nothing older than the deadline is run.
		if d := now.Add(-*st.StartingDeadline); d.After(earliest) {
			earliest = d
		}
	}
	due := Due{Next: s.Next(now)}
	t1 := s.Next(earliest)
	t2 := s.Next(t1)
	switch {
	case t1.IsZero() || now.Before(t1):
		return due, nil
	case now.Before(t2):
		due.Run = &t1
		return due, nil
	}
	// Several were missed: count them roughly, as the controller does, and
	// find the most recent by walking from a little before it.
	between := int64(t2.Sub(t1).Round(time.Second).Seconds())
	if between < 1 {
		return due, errors.New("time difference between two schedules is less than 1 second")
	}
	missed := int64(now.Sub(t1).Seconds())/between + 1
	var recent time.Time
	start := t1.Add(time.Duration((missed-2)*between) * time.Second)
	for t := s.Next(start); !t.IsZero() && !t.After(now); t = s.Next(t) {
		recent = t
	}
	if recent.IsZero() {
		return due, nil
	}
	due.Run, due.TooMany = &recent, missed > maxMissed
	return due, nil
}
