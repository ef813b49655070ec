package devices

import (
	"errors"
	"reflect"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

const gpu = v1.ResourceName("example.com/gpu")

func podWith(apps []int64, inits []int64) *v1.Pod {
	p := &v1.Pod{}
	mk := func(name string, n int64) v1.Container {
		c := v1.Container{Name: name}
		if n > 0 {
			c.Resources.Limits = v1.ResourceList{gpu: *resource.NewQuantity(n, resource.DecimalSI), v1.ResourceCPU: resource.MustParse("1")}
		}
		return c
	}
	for i, n := range apps {
		p.Spec.Containers = append(p.Spec.Containers, mk(string(rune('a'+i)), n))
	}
	for i, n := range inits {
		p.Spec.InitContainers = append(p.Spec.InitContainers, mk("init"+string(rune('0'+i)), n))
	}
	return p
}

func TestAllocate(t *testing.T) {
	pool := Pool{Devices: map[v1.ResourceName][]string{gpu: {"example.com/gpu=0", "example.com/gpu=1", "example.com/gpu=2"}}}
	if c := pool.Capacity()[gpu]; c.Value() != 3 {
		t.Fatalf("capacity %v", c)
	}
	a, err := Allocate(pool, nil, podWith([]int64{1, 0, 1}, []int64{2}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"a": {"example.com/gpu=0"}, "c": {"example.com/gpu=1"}, "init0": {"example.com/gpu=0", "example.com/gpu=1"}}
	if !reflect.DeepEqual(a.Containers, want) || a.Held[gpu] != 2 || len(a.Devices) != 2 {
		t.Fatalf("assignment %+v", a)
	}
	// The next pod gets the free device, and no more.
	b, err := Allocate(pool, []Assignment{a}, podWith([]int64{1}, nil))
	if err != nil || !reflect.DeepEqual(b.Containers["a"], []string{"example.com/gpu=2"}) {
		t.Fatalf("second pod: %+v %v", b, err)
	}
	_, err = Allocate(pool, []Assignment{a, b}, podWith([]int64{1}, nil))
	var r Refusal
	if !errors.As(err, &r) || r.Reason() != "OutOfexample.com/gpu" ||
		err.Error() != "Node didn't have enough resource: example.com/gpu, requested: 1, used: 3, capacity: 3" {
		t.Fatalf("third pod: %v", err)
	}
	// A resource the node does not have at all.
	if _, err := Allocate(Pool{}, nil, podWith([]int64{1}, nil)); !errors.As(err, &r) || r.Capacity != 0 {
		t.Fatalf("unknown resource: %v", err)
	}
	// Counted resources hold a count, no devices.
	counted := Pool{Counts: map[v1.ResourceName]int64{gpu: 2}}
	c, err := Allocate(counted, nil, podWith([]int64{2}, nil))
	if err != nil || c.Held[gpu] != 2 || len(c.Devices) != 0 || len(c.Containers) != 0 {
		t.Fatalf("counted: %+v %v", c, err)
	}
	if _, err := Allocate(counted, []Assignment{c}, podWith([]int64{1}, nil)); err == nil {
		t.Fatal("a counted resource given twice")
	}
	// A pod that asks for nothing holds nothing.
	if n, err := Allocate(pool, nil, podWith([]int64{0}, nil)); err != nil || len(n.Held) != 0 {
		t.Fatalf("nothing asked: %+v %v", n, err)
	}
}

func TestParseCounts(t *testing.T) {
	if c, err := ParseCounts(map[string]string{"example.com/fpga": "4"}); err != nil || c["example.com/fpga"] != 4 {
		t.Fatalf("%v %v", c, err)
	}
	for _, bad := range []map[string]string{{"cpu": "4"}, {"example.com/x": "-1"}, {"example.com/x": "two"}, {"kubernetes.io/x": "1"}} {
		if _, err := ParseCounts(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
