package imagegc

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

const mib = 1 << 20

func img(id string, size int64, firstSeenAgo, lastUsedAgo time.Duration) Image {
	im := Image{ID: id, Refs: []string{"r/" + id}, Size: size * mib, FirstSeen: t0.Add(-firstSeenAgo)}
	if lastUsedAgo > 0 {
		im.LastUsed = t0.Add(-lastUsedAgo)
	}
	return im
}

func ids(d Decision) string {
	var out []string
	for _, im := range d.Remove {
		out = append(out, im.ID)
	}
	return strings.Join(out, ",")
}

func TestPlan(t *testing.T) {
	hour := time.Hour
	inUse := img("inuse", 50, hour, 0)
	inUse.InUse = true
	pause := img("pause", 1, hour, 0)
	pause.Pinned = true
	images := []Image{
		img("old", 10, 5*hour, 4*hour),   // least recently used
		img("never", 10, 3*hour, 0),      // never used: before any used one
		img("recent", 10, 5*hour, hour),  // used an hour ago
		img("young", 10, time.Minute, 0), // first seen 1 min ago: under MinAge
		inUse, pause,
	}
	fs := func(usedPercent int) FS {
		return FS{Capacity: 1000 * mib, Available: int64(100-usedPercent) * 10 * mib}
	}
	for _, tc := range []struct {
		name   string
		in     Input
		remove string
		want   int64
		short  bool
	}{
		{"below the high threshold: nothing", Input{FS: fs(84)}, "", 0, false},
		{"at 86 %, down to 80 %: 60 MiB to free, the least recently used first",
			Input{FS: fs(86)}, "never,old,recent", 60 * mib, true},
		{"at 85 %, 50 MiB: two images do", Input{FS: FS{Capacity: 1000 * mib, Available: 150 * mib}}, "never,old,recent", 50 * mib, true},
		{"a little over, low = high: one image frees enough", Input{FS: FS{Capacity: 1000 * mib, Available: 145*mib + mib/2},
			Policy: Policy{HighThresholdPercent: 85, LowThresholdPercent: 85, MinAge: 2 * time.Minute}}, "never", 4*mib + mib/2, false},
		{"max age 2h: the images unused that long go at any usage", Input{FS: fs(10), Policy: Policy{HighThresholdPercent: 85, LowThresholdPercent: 80, MinAge: 2 * time.Minute, MaxAge: 2 * hour}}, "never,old", 0, false},
		{"prune: every image that may go", Input{FS: fs(10), Force: true}, "never,old,recent", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Images, tc.in.Now = images, t0
			if tc.in.Policy == (Policy{}) {
				tc.in.Policy = DefaultPolicy
			}
			d := Plan(tc.in)
			if got := ids(d); got != tc.remove {
				t.Errorf("remove %q, want %q", got, tc.remove)
			}
			if tc.want != 0 && (d.Want != tc.want || d.Short != tc.short) {
				t.Errorf("want %d short %v, expected %d %v", d.Want, d.Short, tc.want, tc.short)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []Policy{{HighThresholdPercent: 101}, {HighThresholdPercent: 80, LowThresholdPercent: 85}, {HighThresholdPercent: 85, LowThresholdPercent: 80, MinAge: time.Hour, MaxAge: time.Minute}} {
		if p.Validate() == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}
