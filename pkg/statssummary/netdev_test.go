package statssummary

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

const hostNetDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  987654     100    0    0    0     0          0         0   987654     100    0    0    0     0       0          0
  eth0: 123456789  2000    3    1    0     0          0        10  98765432   1500    4    0    0     0       0          0
vethab12cd: 500     5    0    0    0     0          0         0      600      6    0    0    0     0       0          0
 cni0:1000 10 0 0 0 0 0 0 2000 20 1 0 0 0 0 0
`

func iface(name string, rx, rxErr, tx, txErr uint64) statsapi.InterfaceStats {
	return statsapi.InterfaceStats{Name: name, RxBytes: &rx, RxErrors: &rxErr, TxBytes: &tx, TxErrors: &txErr}
}

func TestParseNetDev(t *testing.T) {
	got, err := parseNetDev(hostNetDev)
	if err != nil {
		t.Fatal(err)
	}
	want := []statsapi.InterfaceStats{
		iface("lo", 987654, 0, 987654, 0),
		iface("eth0", 123456789, 3, 98765432, 4),
		iface("vethab12cd", 500, 0, 600, 0),
		iface("cni0", 1000, 0, 2000, 1),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %s\nwant %s", dump(got), dump(want))
	}
	if _, err := parseNetDev("eth0: 1 2 3\n"); err == nil {
		t.Error("a short line parsed")
	}
	if _, err := parseNetDev("eth0: 1 2 x 4 5 6 7 8 9 10 11 12 13 14 15 16\n"); err == nil {
		t.Error("a bad count parsed")
	}
}

func TestNetworkStats(t *testing.T) {
	at := time.Unix(1700000000, 0)
	ifaces, _ := parseNetDev(hostNetDev)
	for _, tc := range []struct {
		name   string
		ifaces []statsapi.InterfaceStats
		want   *statsapi.NetworkStats
	}{
		{"host: lo and veths left out, eth0 inline", ifaces, &statsapi.NetworkStats{
			Time:           metav1.NewTime(at),
			InterfaceStats: iface("eth0", 123456789, 3, 98765432, 4),
			Interfaces:     []statsapi.InterfaceStats{iface("eth0", 123456789, 3, 98765432, 4), iface("cni0", 1000, 0, 2000, 1)},
		}},
		{"no eth0: nothing inline", []statsapi.InterfaceStats{iface("lo", 1, 0, 1, 0), iface("ens3", 5, 0, 6, 0)}, &statsapi.NetworkStats{
			Time:       metav1.NewTime(at),
			Interfaces: []statsapi.InterfaceStats{iface("ens3", 5, 0, 6, 0)},
		}},
	} {
		if got := networkStats(at, tc.ifaces); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %s\nwant %s", tc.name, dump(got), dump(tc.want))
		}
	}
}
