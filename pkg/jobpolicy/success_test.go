package jobpolicy

import (
	"reflect"
	"testing"

	batch "k8s.io/api/batch/v1"
)

func TestParseIndexes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		bad  bool
	}{
		{"0", []int{0}, false}, {"1,3-5,7", []int{1, 3, 4, 5, 7}, false},
		{"3,1", nil, true}, {"1-1", nil, true}, {"2-9", nil, true}, {"x", nil, true}, {"1,1", nil, true},
	} {
		got, err := ParseIndexes(tc.in, 8)
		if (err != nil) != tc.bad || (!tc.bad && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("ParseIndexes(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestSuccessRule(t *testing.T) {
	str := func(s string) *string { return &s }
	n := func(v int32) *int32 { return &v }
	policy := &batch.SuccessPolicy{Rules: []batch.SuccessPolicyRule{
		{SucceededIndexes: str("0")},                         // the leader
		{SucceededIndexes: str("1-4"), SucceededCount: n(3)}, // 3 of the workers
		{SucceededCount: n(5)},
	}}
	for _, tc := range []struct {
		done []int
		want int
	}{
		{nil, -1}, {[]int{0}, 0}, {[]int{1, 3, 5}, -1}, {[]int{1, 3, 4}, 1}, {[]int{1, 2, 5, 6, 7}, 2},
	} {
		if got := SuccessRule(policy, tc.done, 8); got != tc.want {
			t.Errorf("SuccessRule(%v) = %d, want %d", tc.done, got, tc.want)
		}
	}
}
