package cronschedule

import (
	"testing"
	"time"
)

func mustTime(t *testing.T, s string, loc *time.Location) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func dur(d time.Duration) *time.Duration { return &d }

func TestParse(t *testing.T) {
	for _, bad := range []struct{ s, tz string }{
		{"* * * *", ""}, {"61 * * * *", ""}, {"TZ=UTC * * * * *", ""}, {"CRON_TZ=UTC 0 * * * *", ""}, {"0 * * * *", "Mars/Olympus"},
	} {
		if _, err := Parse(bad.s, bad.tz); err == nil {
			t.Errorf("%q in %q parsed", bad.s, bad.tz)
		}
	}
	for _, ok := range []string{"*/5 * * * *", "@hourly", "0 3 * * 1-5", "@every 90s"} {
		if _, err := Parse(ok, "Europe/Berlin"); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestDecide(t *testing.T) {
	utc := time.UTC
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone data")
	}
	hourly, _ := Parse("0 * * * *", "")
	daily230NY, _ := Parse("30 2 * * *", "America/New_York")
	cases := []struct {
		name    string
		st      State
		now     time.Time
		run     string // "" none
		tooMany bool
		next    string
	}{
		{name: "not yet", st: State{Created: mustTime(t, "2026-12-03 10:10:00", utc)}, now: mustTime(t, "2026-12-03 10:59:59", utc),
			run: "", next: "2026-12-03 11:00:00"},
		{name: "due now", st: State{Created: mustTime(t, "2026-12-03 10:10:00", utc)}, now: mustTime(t, "2026-12-03 11:00:05", utc),
			run: "2026-12-03 11:00:00", next: "2026-12-03 12:00:00"},
		{name: "already ran this hour", st: State{Created: mustTime(t, "2026-12-03 10:10:00", utc), LastSchedule: ptr(mustTime(t, "2026-12-03 11:00:00", utc))},
			now: mustTime(t, "2026-12-03 11:30:00", utc), run: "", next: "2026-12-03 12:00:00"},
		{name: "down for 5 hours: one catch-up run, the most recent", st: State{Created: mustTime(t, "2026-12-01 00:00:00", utc), LastSchedule: ptr(mustTime(t, "2026-12-03 06:00:00", utc))},
			now: mustTime(t, "2026-12-03 11:20:00", utc), run: "2026-12-03 11:00:00", next: "2026-12-03 12:00:00"},
		{name: "missed, but past startingDeadlineSeconds", st: State{Created: mustTime(t, "2026-12-01 00:00:00", utc), LastSchedule: ptr(mustTime(t, "2026-12-03 06:00:00", utc)), StartingDeadline: dur(10 * time.Minute)},
			now: mustTime(t, "2026-12-03 11:20:00", utc), run: "", next: "2026-12-03 12:00:00"},
		{name: "missed, within startingDeadlineSeconds", st: State{Created: mustTime(t, "2026-12-01 00:00:00", utc), LastSchedule: ptr(mustTime(t, "2026-12-03 06:00:00", utc)), StartingDeadline: dur(30 * time.Minute)},
			now: mustTime(t, "2026-12-03 11:20:00", utc), run: "2026-12-03 11:00:00", next: "2026-12-03 12:00:00"},
		{name: "down for 10 days: too many missed, still one run", st: State{Created: mustTime(t, "2026-11-20 00:00:00", utc), LastSchedule: ptr(mustTime(t, "2026-11-23 00:00:00", utc))},
			now: mustTime(t, "2026-12-03 11:20:00", utc), run: "2026-12-03 11:00:00", tooMany: true, next: "2026-12-03 12:00:00"},
	}
	for _, c := range cases {
		due, err := Decide(hourly, c.st, c.now)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := ""
		if due.Run != nil {
			got = due.Run.In(utc).Format("2006-01-02 15:04:05")
		}
		if got != c.run || due.TooMany != c.tooMany || due.Next.In(utc).Format("2006-01-02 15:04:05") != c.next {
			t.Errorf("%s: run %q tooMany %v next %s; want %q %v %s", c.name, got, due.TooMany, due.Next.In(utc), c.run, c.tooMany, c.next)
		}
	}

	// DST in New York: 2027-03-14 02:30 does not exist (clocks jump from
	// 02:00 to 03:00), so that day has no run; 2027-11-07 01:00-02:00
	// happens twice, 02:30 once.
	st := State{Created: mustTime(t, "2027-03-12 12:00:00", ny), LastSchedule: ptr(mustTime(t, "2027-03-13 02:30:00", ny))}
	due, err := Decide(daily230NY, st, mustTime(t, "2027-03-14 12:00:00", ny))
	if err != nil {
		t.Fatal(err)
	}
	if due.Run != nil {
		t.Errorf("spring forward: a run at %v, a time that does not exist", due.Run.In(ny))
	}
	if want := mustTime(t, "2027-03-15 02:30:00", ny); !due.Next.Equal(want) {
		t.Errorf("spring forward: next %v, want %v", due.Next.In(ny), want)
	}
	st = State{Created: mustTime(t, "2027-11-05 12:00:00", ny), LastSchedule: ptr(mustTime(t, "2027-11-06 02:30:00", ny))}
	due, err = Decide(daily230NY, st, mustTime(t, "2027-11-07 03:00:00", ny))
	if err != nil || due.Run == nil || !due.Run.Equal(mustTime(t, "2027-11-07 02:30:00", ny)) {
		t.Errorf("fall back: run %v, %v", due.Run, err)
	}
	// The schedule is read in its zone, not the host's: 02:30 New York is
	// 07:30 UTC in winter.
	if due.Run != nil && due.Run.UTC().Hour() != 7 {
		t.Errorf("time zone: %v", due.Run.UTC())
	}
}

func ptr[T any](v T) *T { return &v }
