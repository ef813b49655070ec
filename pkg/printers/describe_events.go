package printers

import (
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
)

// describeEvents writes the Events table: Type Reason Age From Message,
// with "2m (x3 over 5m)" ages for repeated events, or <none>.
func describeEvents(pw *prefixWriter, events []v1.Event, now time.Time) {
	if len(events) == 0 {
		pw.write(level0, "Events:\t<none>\n")
		return
	}
	pw.flush()
	evs := append([]v1.Event(nil), events...)
	sort.SliceStable(evs, func(i, j int) bool { return eventTime(evs[i]).Before(eventTime(evs[j])) })
	pw.write(level0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
	pw.write(level1, "----\t------\t----\t----\t-------\n")
	for _, e := range evs {
		first := microAge(e.EventTime, now)
		if e.EventTime.IsZero() {
			first = Age(e.FirstTimestamp, now)
		}
		age := first
		switch {
		case e.Series != nil:
			age = fmt.Sprintf("%s (x%d over %s)", microAge(e.Series.LastObservedTime, now), e.Series.Count, first)
		case e.Count > 1:
			age = fmt.Sprintf("%s (x%d over %s)", Age(e.LastTimestamp, now), e.Count, first)
		}
		from := e.Source.Component
		if from == "" {
			from = e.ReportingController
		}
		pw.write(level1, "%s\t%s\t%s\t%s\t%s\n", e.Type, e.Reason, age, from, strings.TrimSpace(e.Message))
	}
}

// eventTime is when an event last happened.
func eventTime(e v1.Event) time.Time {
	switch {
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	}
	return e.EventTime.Time
}
