package rollout

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
)

func pct(s string) *intstr.IntOrString { v := intstr.FromString(s); return &v }
func num(n int32) *intstr.IntOrString  { v := intstr.FromInt32(n); return &v }

func TestFenceposts(t *testing.T) {
	cases := []struct {
		surge, unavail *intstr.IntOrString
		replicas       int32
		s, u           int32
	}{
		{pct("25%"), pct("25%"), 10, 3, 2}, // surge rounds up, unavailable down
		{pct("25%"), pct("25%"), 3, 1, 0},
		{pct("0%"), pct("0%"), 3, 0, 1}, // both zero: one may be unavailable
		{num(0), num(2), 3, 0, 2},
		{nil, nil, 5, 0, 1},
	}
	for _, c := range cases {
		s, u, err := Fenceposts(c.surge, c.unavail, c.replicas)
		if err != nil || s != c.s || u != c.u {
			t.Errorf("Fenceposts(%v, %v, %d) = %d, %d, %v; want %d, %d", c.surge, c.unavail, c.replicas, s, u, err, c.s, c.u)
		}
	}
}

// simulate runs syncs of a rollout from 3 old pods to the new template
// until nothing changes, with pods becoming available one sync after they
// are made when the new template is good (never when it is not). It checks
// the bounds at every sync and returns the final replicas.
func simulate(t *testing.T, surge, unavail *intstr.IntOrString, good bool) (int32, int32) {
	t.Helper()
	const replicas = 3
	s, u, _ := Fenceposts(surge, unavail, replicas)
	old := ReplicaSet{Name: "old", Created: time.Unix(0, 0), Replicas: replicas, Available: replicas}
	cur := ReplicaSet{Name: "new", Created: time.Unix(100, 0)}
	for i := 0; i < 50; i++ {
		n, olds, err := Step(replicas, surge, unavail, cur, []ReplicaSet{old})
		if err != nil {
			t.Fatal(err)
		}
		changed := n != cur.Replicas || olds["old"] != old.Replicas
		settled := cur.Available == cur.Replicas
		// Pods: made at once; the new ones become available at the next
		// sync (if good); removed ones go at once.
		if good {
			cur.Available = min(cur.Replicas, n)
		}
		cur.Replicas = n
		old.Replicas = olds["old"]
		old.Available = min(old.Available, old.Replicas)
		if total := cur.Replicas + old.Replicas; total > replicas+s {
			t.Fatalf("sync %d: %d pods, more than replicas + maxSurge (%d)", i, total, replicas+s)
		}
		if avail := cur.Available + old.Available; avail < replicas-u {
			t.Fatalf("sync %d: %d available, fewer than replicas - maxUnavailable (%d)", i, avail, replicas-u)
		}
		if !changed && (!good || settled) {
			return cur.Replicas, old.Replicas
		}
	}
	t.Fatal("no end after 50 syncs")
	return 0, 0
}

func TestRollingUpdate(t *testing.T) {
	for _, c := range []struct {
		name             string
		surge, unavail   *intstr.IntOrString
		good             bool
		wantNew, wantOld int32
	}{
		{"defaults 25%/25%", pct("25%"), pct("25%"), true, 3, 0},
		{"surge 1, unavailable 0", num(1), num(0), true, 3, 0},
		{"surge 0, unavailable 1", num(0), num(1), true, 3, 0},
		{"surge 3", num(3), num(0), true, 3, 0},
		{"a new template that never gets ready stalls with the old pods serving", num(1), num(0), false, 1, 3},
		{"stalled with surge 0: one old pod gone, no more", num(0), num(1), false, 1, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, o := simulate(t, c.surge, c.unavail, c.good)
			if n != c.wantNew || o != c.wantOld {
				t.Errorf("ended with new %d, old %d; want %d, %d", n, o, c.wantNew, c.wantOld)
			}
		})
	}
}

func TestStepScalesUnhealthyOldPodsFirst(t *testing.T) {
	// Two old ReplicaSets: the older one has 2 pods of which none is
	// available; with room to remove one pod (4 - 3 available needed), an
	// unavailable one goes, not an available one.
	a := ReplicaSet{Name: "a", Created: time.Unix(0, 0), Replicas: 2, Available: 0}
	b := ReplicaSet{Name: "b", Created: time.Unix(10, 0), Replicas: 2, Available: 2}
	n, olds, err := Step(4, num(0), num(1), ReplicaSet{Name: "new", Created: time.Unix(20, 0)}, []ReplicaSet{b, a})
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 || olds["a"] != 1 || olds["b"] != 2 {
		t.Errorf("new %d, a %d, b %d; want 0, 1, 2", n, olds["a"], olds["b"])
	}
}
