package restart

import (
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

func TestShouldRestart(t *testing.T) {
	cases := []struct {
		policy v1.RestartPolicy
		code   int32
		want   bool
	}{
		{v1.RestartPolicyAlways, 0, true},
		{v1.RestartPolicyAlways, 1, true},
		{v1.RestartPolicyOnFailure, 0, false},
		{v1.RestartPolicyOnFailure, 137, true},
		{v1.RestartPolicyNever, 1, false},
		{"", 0, true},
	}
	for _, c := range cases {
		if got := ShouldRestart(c.policy, c.code); got != c.want {
			t.Errorf("ShouldRestart(%s, %d) = %v, want %v", c.policy, c.code, got, c.want)
		}
	}
}

func TestBackoffCurve(t *testing.T) {
	b := DefaultBackoff(0)
	t0 := time.Unix(1000, 0)
	var st State
	var got []time.Duration
	for i := 0; i < 9; i++ {
		var d time.Duration
		d, st = b.Next(st, t0, t0.Add(time.Second)) // crashes after 1s
		got = append(got, d)
	}
	want := []time.Duration{0, 10, 20, 40, 80, 160, 300, 300, 300}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("restart %d: delay %v, want %v (all: %v)", i, got[i], want[i]*time.Second, got)
		}
	}
}

func TestBackoffResetsAfterLongRun(t *testing.T) {
	b := DefaultBackoff(0)
	t0 := time.Unix(1000, 0)
	st := State{Restarts: 5, Delay: 160 * time.Second}
	d, st := b.Next(st, t0, t0.Add(10*time.Minute))
	if d != 0 || st.Restarts != 1 {
		t.Fatalf("after a 10 min run: delay %v restarts %d, want 0 and 1", d, st.Restarts)
	}
	d, _ = b.Next(st, t0, t0.Add(9*time.Minute))
	if d != 10*time.Second {
		t.Fatalf("second restart after reset: %v, want 10s", d)
	}
}

func TestBackoffCap(t *testing.T) {
	b := DefaultBackoff(30 * time.Second)
	t0 := time.Unix(0, 0)
	st := State{Restarts: 3, Delay: 20 * time.Second}
	if d, _ := b.Next(st, t0, t0.Add(time.Second)); d != 30*time.Second {
		t.Fatalf("capped delay = %v, want 30s", d)
	}
	small := DefaultBackoff(5 * time.Second)
	if small.Initial != 5*time.Second {
		t.Fatalf("initial above cap: %v", small.Initial)
	}
}
