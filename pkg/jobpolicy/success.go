package jobpolicy

import (
	"fmt"
	"strconv"
	"strings"

	batch "k8s.io/api/batch/v1"
)

// ParseIndexes reads a set of completion indexes as a Job writes them
// ("1,3-5,7": increasing, without overlaps), each below completions.
func ParseIndexes(s string, completions int32) ([]int, error) {
	var out []int
	last := -1
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("%q is not an index or a range of indexes", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b <= a {
				return nil, fmt.Errorf("%q is not a range of increasing indexes", part)
			}
		}
		if a <= last {
			return nil, fmt.Errorf("indexes must be increasing and without duplicates, %q is not", part)
		}
		if int32(b) >= completions {
			return nil, fmt.Errorf("index %d is not below completions (%d)", b, completions)
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
		last = b
	}
	return out, nil
}

// SuccessRule returns the index of the first rule of policy the succeeded
// indexes meet (-1: none), as the Job controller reads successPolicy.
func SuccessRule(policy *batch.SuccessPolicy, succeeded []int, completions int32) int {
	if policy == nil {
		return -1
	}
	done := map[int]bool{}
	for _, i := range succeeded {
		done[i] = true
	}
	for n, rule := range policy.Rules {
		if rule.SucceededIndexes != nil {
			want, err := ParseIndexes(*rule.SucceededIndexes, completions)
			if err != nil {
				continue
			}
			got := 0
			for _, i := range want {
				if done[i] {
					got++
				}
			}
			if rule.SucceededCount != nil {
				if int32(got) >= *rule.SucceededCount {
					return n
				}
				continue
			}
			if got == len(want) {
				return n
			}
			continue
		}
		if rule.SucceededCount != nil && int32(len(done)) >= *rule.SucceededCount {
			return n
		}
	}
	return -1
}
