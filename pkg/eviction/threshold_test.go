package eviction

import (
	"strings"
	"testing"
	"time"
)

func TestParseThresholdsDefaults(t *testing.T) {
	ts, err := ParseThresholds(Flags{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range ts {
		got = append(got, x.String())
	}
	want := "hard memory.available<100Mi,hard nodefs.available<10%,hard nodefs.inodesFree<5%,hard imagefs.available<15%,hard imagefs.inodesFree<5%"
	if strings.Join(got, ",") != want {
		t.Errorf("defaults %v, want %s", got, want)
	}
}

func TestParseThresholdsMergesDefaultsAndSoft(t *testing.T) {
	ts, err := ParseThresholds(Flags{
		Hard: "memory.available<500Mi, imagefs.available<0", Soft: "nodefs.available<20%",
		SoftGracePeriod: "nodefs.available=1m30s", MinimumReclaim: "nodefs.available=1Gi",
	})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Threshold{}
	for _, x := range ts {
		byName[x.String()] = x
	}
	if _, ok := byName["hard memory.available<500Mi"]; !ok {
		t.Errorf("memory not replaced: %v", byName)
	}
	if _, ok := byName["hard nodefs.inodesFree<5%"]; !ok {
		t.Errorf("a default the flag does not name is lost: %v", byName)
	}
	for k := range byName {
		if strings.Contains(k, "imagefs.available") {
			t.Errorf("imagefs.available<0 should turn the signal off: %v", k)
		}
	}
	soft, ok := byName["soft nodefs.available<20%"]
	if !ok || soft.GracePeriod != 90*time.Second || soft.MinReclaim == nil || soft.MinReclaim.Of(0) != 1<<30 {
		t.Errorf("soft threshold %+v", soft)
	}
	if got := soft.Value.Of(1000); got != 200 {
		t.Errorf("20%% of 1000 = %d", got)
	}
}

func TestParseThresholdsErrors(t *testing.T) {
	for _, tc := range []struct {
		f    Flags
		want string
	}{
		{Flags{Hard: "memory.avail<1Gi"}, `--eviction-hard: "memory.avail<1Gi": unsupported eviction signal memory.avail (known: `},
		{Flags{Hard: "memory.available>1Gi"}, `want signal<value`},
		{Flags{Hard: "memory.available<1Gb"}, `value "1Gb": want a quantity`},
		{Flags{Hard: "nodefs.available<110%"}, `percentage "110%"`},
		{Flags{Hard: "memory.available<-1Mi"}, `must not be negative`},
		{Flags{Hard: "memory.available<1Gi,memory.available<2Gi"}, `signal memory.available is given twice`},
		{Flags{Soft: "memory.available<1Gi"}, `--eviction-soft: memory.available<1Gi has no grace period`},
		{Flags{Soft: "memory.available<1Gi", SoftGracePeriod: "memory.available=soon"}, `--eviction-soft-grace-period: memory.available=soon: not a duration`},
		{Flags{SoftGracePeriod: "nodefs.available=1m"}, `nodefs.available has no soft threshold`},
		{Flags{MinimumReclaim: "nodefs.available=lots"}, `--eviction-minimum-reclaim: nodefs.available=lots`},
		{Flags{Hard: "allocatableMemory.available<1Gi"}, `not supported: minilet does not enforce node allocatable`},
		{Flags{Hard: "containerfs.available<10%"}, `use imagefs.available`},
	} {
		_, err := ParseThresholds(tc.f)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want it to hold %q", tc.f, err, tc.want)
		}
	}
}
