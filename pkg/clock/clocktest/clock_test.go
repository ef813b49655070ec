package clocktest

import (
	"testing"
	"time"
)

func fired(c <-chan time.Time) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestClock(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := NewClock(t0)
	a := c.NewTimer(10 * time.Second)
	b := c.NewTimer(20 * time.Second)
	now := c.NewTimer(0)
	if !fired(now.C()) || now.Stop() {
		t.Fatal("a zero timer fires at once and cannot be stopped")
	}
	if c.Waiters() != 2 {
		t.Fatalf("waiters %d", c.Waiters())
	}
	if d, ok := c.NextDeadline(); !ok || !d.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("next deadline %v %v", d, ok)
	}
	c.Advance(10*time.Second - 1)
	if fired(a.C()) {
		t.Fatal("fired early")
	}
	c.Advance(1)
	if !fired(a.C()) || fired(b.C()) || c.Waiters() != 1 {
		t.Fatal("Advance to the first deadline")
	}
	if a.Stop() {
		t.Fatal("Stop of a fired timer reports true")
	}
	if !b.Stop() || c.Waiters() != 0 {
		t.Fatal("Stop of a pending timer")
	}
	c.Set(t0.Add(time.Hour))
	if fired(b.C()) || !c.Now().Equal(t0.Add(time.Hour)) {
		t.Fatal("a stopped timer fired")
	}
	if _, ok := c.NextDeadline(); ok {
		t.Fatal("deadline with no timers")
	}
}
