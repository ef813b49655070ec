package imagegc

import (
	"fmt"
	"sort"
	"time"
)

// Policy is the kubelet's image GC settings.
type Policy struct {
	HighThresholdPercent int           // imageGCHighThresholdPercent: 85
	LowThresholdPercent  int           // imageGCLowThresholdPercent: 80
	MinAge               time.Duration // imageMinimumGCAge: 2m
	MaxAge               time.Duration // imageMaximumGCAge: 0, off
}

// DefaultPolicy is the kubelet's default.
var DefaultPolicy = Policy{HighThresholdPercent: 85, LowThresholdPercent: 80, MinAge: 2 * time.Minute}

// Validate says what is wrong with p, in the kubelet's words.
func (p Policy) Validate() error {
	switch {
	case p.HighThresholdPercent < 0 || p.HighThresholdPercent > 100:
		return fmt.Errorf("--image-gc-high-threshold %d: must be between 0 and 100", p.HighThresholdPercent)
	case p.LowThresholdPercent < 0 || p.LowThresholdPercent > 100:
		return fmt.Errorf("--image-gc-low-threshold %d: must be between 0 and 100", p.LowThresholdPercent)
	case p.LowThresholdPercent > p.HighThresholdPercent:
		return fmt.Errorf("--image-gc-low-threshold %d must not be above --image-gc-high-threshold %d", p.LowThresholdPercent, p.HighThresholdPercent)
	case p.MinAge < 0 || p.MaxAge < 0:
		return fmt.Errorf("image GC ages must not be negative")
	case p.MaxAge > 0 && p.MaxAge < p.MinAge:
		return fmt.Errorf("--image-maximum-gc-age %s must not be below --minimum-image-ttl-duration %s", p.MaxAge, p.MinAge)
	}
	return nil
}

// Image is one image (all names of one image ID) as GC sees it.
type Image struct {
	ID        string   // config digest: the image, whatever its names
	Refs      []string // its names
	Size      int64
	FirstSeen time.Time // when GC first saw it (this daemon run)
	LastUsed  time.Time // when a container last used it (zero: never seen used)
	InUse     bool      // a container uses it, or a pod's spec names it
	Pinned    bool      // the pause image
}

// FS is the image filesystem's size.
type FS struct{ Capacity, Available int64 }

// Input is what Plan decides from.
type Input struct {
	Images []Image
	FS     FS
	Policy Policy
	Now    time.Time
	// Force frees every image it may (minilet images prune), whatever
	// the usage.
	Force bool
}

// Decision is what to remove, and why.
type Decision struct {
	Remove []Image
	// Usage is the image filesystem's use in percent.
	Usage int
	// Want is the bytes the thresholds ask to free (0: below the high
	// threshold); Short says the images that may go free less than that.
	Want  int64
	Short bool
	// Expired are the images of Remove that went for their age alone.
	Expired int
}

// Plan is the kubelet's image GC pass: images past the maximum age first,
// then, above the high threshold, the least recently used images (by last
// use, then by first sight) that may go, until the low threshold is
// reached. An image may go when no container uses it, no pod names it, it
// is not the pause image, and it was first seen at least MinAge ago.
func Plan(in Input) Decision {
	var d Decision
	if in.FS.Capacity > 0 {
		d.Usage = int((in.FS.Capacity - in.FS.Available) * 100 / in.FS.Capacity)
	}
	var eligible []Image
	for _, im := range in.Images {
		if im.InUse || im.Pinned || in.Now.Sub(im.FirstSeen) < in.Policy.MinAge {
			continue
		}
		eligible = append(eligible, im)
	}
	sort.SliceStable(eligible, func(i, j int) bool {
		a, b := eligible[i], eligible[j]
		if !a.LastUsed.Equal(b.LastUsed) {
			return a.LastUsed.Before(b.LastUsed)
		}
		if !a.FirstSeen.Equal(b.FirstSeen) {
			return a.FirstSeen.Before(b.FirstSeen)
		}
		return a.ID < b.ID
	})
	var rest []Image
	for _, im := range eligible {
		if in.Policy.MaxAge > 0 && in.Now.Sub(lastSeenUse(im)) > in.Policy.MaxAge {
			d.Remove = append(d.Remove, im)
			d.Expired++
			continue
		}
		rest = append(rest, im)
	}
	if in.Force {
		d.Remove = append(d.Remove, rest...)
		return d
	}
	if in.FS.Capacity == 0 || d.Usage < in.Policy.HighThresholdPercent {
		return d
	}
	d.Want = in.FS.Capacity*int64(100-in.Policy.LowThresholdPercent)/100 - in.FS.Available
	var freed int64
	for _, im := range d.Remove {
		freed += im.Size
	}
	for _, im := range rest {
		if freed >= d.Want {
			break
		}
		d.Remove = append(d.Remove, im)
		freed += im.Size
	}
	d.Short = freed < d.Want
	return d
}

// lastSeenUse is the last use, or the first sight of an image never seen
// used.
func lastSeenUse(im Image) time.Time {
	if im.LastUsed.IsZero() {
		return im.FirstSeen
	}
	return im.LastUsed
}
