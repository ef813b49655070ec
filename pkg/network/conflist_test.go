package network

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	gocni "github.com/containerd/go-cni"
	"github.com/containernetworking/cni/libcni"
	"go.uber.org/zap/zaptest"
)

func testConfig(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	cfg, err := Config{
		ConfDir:     filepath.Join(dir, "net.d"),
		CacheDir:    filepath.Join(dir, "cni"),
		NetnsDir:    filepath.Join(dir, "netns"),
		NetworkName: "unit",
		BridgeName:  "unit0",
		PodCIDR:     "10.99.0.0/16",
	}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestDefaultConflist(t *testing.T) {
	cfg := testConfig(t)
	data, err := defaultConflist(cfg)
	if err != nil {
		t.Fatal(err)
	}
	list, err := libcni.ConfListFromBytes(data)
	if err != nil {
		t.Fatalf("libcni rejects the default conflist: %v\n%s", err, data)
	}
	if list.Name != "unit" || list.CNIVersion != "1.0.0" || len(list.Plugins) != 2 {
		t.Fatalf("name %q version %q plugins %d", list.Name, list.CNIVersion, len(list.Plugins))
	}
	if list.Plugins[0].Network.Type != "bridge" || list.Plugins[1].Network.Type != "portmap" {
		t.Fatalf("plugins %s, %s", list.Plugins[0].Network.Type, list.Plugins[1].Network.Type)
	}
	if !list.Plugins[1].Network.Capabilities["portMappings"] {
		t.Errorf("portmap lacks the portMappings capability")
	}
	var bridge struct {
		Bridge      string `json:"bridge"`
		IsGateway   bool   `json:"isGateway"`
		IPMasq      bool   `json:"ipMasq"`
		HairpinMode bool   `json:"hairpinMode"`
		IPAM        struct {
			Type    string `json:"type"`
			DataDir string `json:"dataDir"`
			Ranges  [][]struct {
				Subnet string `json:"subnet"`
			} `json:"ranges"`
			Routes []struct {
				Dst string `json:"dst"`
			} `json:"routes"`
		} `json:"ipam"`
	}
	if err := json.Unmarshal(list.Plugins[0].Bytes, &bridge); err != nil {
		t.Fatal(err)
	}
	if bridge.Bridge != "unit0" || !bridge.IsGateway || !bridge.IPMasq || !bridge.HairpinMode {
		t.Errorf("bridge config %+v", bridge)
	}
	if bridge.IPAM.Type != "host-local" || bridge.IPAM.DataDir != filepath.Join(cfg.CacheDir, "networks") {
		t.Errorf("ipam %+v, want host-local with dataDir under %s", bridge.IPAM, cfg.CacheDir)
	}
	if len(bridge.IPAM.Ranges) != 1 || bridge.IPAM.Ranges[0][0].Subnet != "10.99.0.0/16" {
		t.Errorf("ranges %+v", bridge.IPAM.Ranges)
	}
	if len(bridge.IPAM.Routes) != 1 || bridge.IPAM.Routes[0].Dst != "0.0.0.0/0" {
		t.Errorf("routes %+v", bridge.IPAM.Routes)
	}

	cfg.PodCIDR = "fd00:85::/64"
	data, err = defaultConflist(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(mustPlugin(t, data, 0), &bridge); err != nil {
		t.Fatal(err)
	}
	if bridge.IPAM.Routes[0].Dst != "::/0" {
		t.Errorf("IPv6 default route %q", bridge.IPAM.Routes[0].Dst)
	}
}

func mustPlugin(t *testing.T, conflist []byte, i int) []byte {
	t.Helper()
	list, err := libcni.ConfListFromBytes(conflist)
	if err != nil {
		t.Fatal(err)
	}
	return list.Plugins[i].Bytes
}

func TestWriteDefaultConflistOnlyIntoEmptyDir(t *testing.T) {
	cfg := testConfig(t)
	wrote, err := writeDefaultConflist(cfg)
	if err != nil || !wrote {
		t.Fatalf("first write: wrote=%v err=%v", wrote, err)
	}
	if _, err := os.Stat(filepath.Join(cfg.ConfDir, "10-unit.conflist")); err != nil {
		t.Fatalf("default conflist not at 10-<name>.conflist: %v", err)
	}
	wrote, err = writeDefaultConflist(cfg)
	if err != nil || wrote {
		t.Fatalf("second write: wrote=%v err=%v, want no write", wrote, err)
	}

	other := testConfig(t)
	if err := os.MkdirAll(other.ConfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(other.ConfDir, "99-user.conf"), `{"cniVersion":"0.4.0","name":"user","type":"bridge"}`)
	wrote, err = writeDefaultConflist(other)
	if err != nil || wrote {
		t.Fatalf("dir with a user config: wrote=%v err=%v, want no write", wrote, err)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSelectConf(t *testing.T) {
	log := zaptest.NewLogger(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "05-broken.conflist"), `{not json`)
	writeFile(t, filepath.Join(dir, "10-first.conflist"), `{"cniVersion":"1.0.0","name":"first","plugins":[{"type":"bridge"}]}`)
	writeFile(t, filepath.Join(dir, "20-wanted.conf"), `{"cniVersion":"0.4.0","name":"wanted","type":"ptp"}`)
	writeFile(t, filepath.Join(dir, "30-other.json"), `{"cniVersion":"0.4.0","name":"other","type":"macvlan"}`)
	writeFile(t, filepath.Join(dir, "40-ignored.txt"), `{"cniVersion":"0.4.0","name":"txt","type":"macvlan"}`)

	cases := []struct{ want, gotName, gotFile string }{
		{"wanted", "wanted", "20-wanted.conf"},
		{"other", "other", "30-other.json"},
		{"missing", "first", "10-first.conflist"},
		{"txt", "first", "10-first.conflist"},
	}
	for _, tc := range cases {
		lc, err := selectConf(dir, tc.want, log)
		if err != nil {
			t.Fatalf("selectConf(%q): %v", tc.want, err)
		}
		if lc.list.Name != tc.gotName || filepath.Base(lc.path) != tc.gotFile {
			t.Errorf("selectConf(%q) = %s from %s, want %s from %s", tc.want, lc.list.Name, filepath.Base(lc.path), tc.gotName, tc.gotFile)
		}
		if len(lc.list.Plugins) == 0 || len(lc.list.Bytes) == 0 {
			t.Errorf("selectConf(%q) returned an empty list", tc.want)
		}
	}

	empty := t.TempDir()
	writeFile(t, filepath.Join(empty, "10-bad.conf"), `{"cniVersion":"0.4.0","name":"noplugin"}`)
	if _, err := selectConf(empty, "x", log); err == nil {
		t.Errorf("selectConf with only unusable configs succeeded")
	}
}

func TestWithDefaults(t *testing.T) {
	cfg, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		BinDirs: []string{"/usr/lib/cni", "/opt/cni/bin"}, ConfDir: "/etc/cni/net.d", CacheDir: "/var/lib/minilet/cni",
		NetnsDir: "/run/minilet/netns", NetworkName: "minilet", BridgeName: "minilet0", PodCIDR: "10.85.0.0/16",
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("defaults %+v, want %+v", cfg, want)
	}
	for _, bad := range []Config{{BridgeName: "a-very-long-bridge0"}, {PodCIDR: "10.0.0.0"}} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("withDefaults accepted %+v", bad)
		}
	}
}

func TestValidPodID(t *testing.T) {
	for id, ok := range map[string]bool{
		"abc": true, "0f3a-pod_1.x": true, "": false, ".": false, "..": false, "-x": false,
		"a/b": false, "a b": false, "a\x00": false, "ünï": false,
	} {
		if err := validPodID(id); (err == nil) != ok {
			t.Errorf("validPodID(%q) = %v, want ok=%v", id, err, ok)
		}
	}
}

func TestCNIPorts(t *testing.T) {
	got, err := cniPorts([]PortMapping{
		{HostPort: 8080, ContainerPort: 80},
		{HostPort: 53, ContainerPort: 53, Protocol: "UDP", HostIP: "127.0.0.1"},
		{HostPort: 0, ContainerPort: 9000}, // no host port: not published
		{HostPort: 9999, ContainerPort: 9999, Protocol: "sctp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []gocni.PortMapping{
		{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		{HostPort: 53, ContainerPort: 53, Protocol: "udp", HostIP: "127.0.0.1"},
		{HostPort: 9999, ContainerPort: 9999, Protocol: "sctp"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cniPorts = %+v, want %+v", got, want)
	}
	for _, bad := range []PortMapping{
		{HostPort: 80, ContainerPort: 80, Protocol: "icmp"},
		{HostPort: 70000, ContainerPort: 80},
		{HostPort: 80, ContainerPort: 0},
	} {
		if _, err := cniPorts([]PortMapping{bad}); err == nil {
			t.Errorf("cniPorts accepted %+v", bad)
		}
	}
}

func TestAttachmentArgs(t *testing.T) {
	if _, err := (Attachment{PodID: "p", Name: "a;b"}).namespaceOpts(); err == nil {
		t.Errorf("a pod name with ';' was accepted into CNI_ARGS")
	}
	if _, err := (Attachment{PodID: "bad/id"}).namespaceOpts(); err == nil {
		t.Errorf("an invalid pod ID was accepted")
	}
	if opts, err := (Attachment{PodID: "p", Namespace: "ns", Name: "n", UID: "u"}).namespaceOpts(); err != nil || len(opts) != 2 {
		t.Errorf("namespaceOpts = %d opts, %v", len(opts), err)
	}
}

func TestPodIPsOrder(t *testing.T) {
	res := &gocni.Result{Interfaces: map[string]*gocni.Config{
		"lo":   {IPConfigs: []*gocni.IPConfig{{IP: net.ParseIP("127.0.0.1")}}},
		"eth0": {IPConfigs: []*gocni.IPConfig{{IP: net.ParseIP("fd00::5")}, {IP: net.ParseIP("10.85.0.5")}}},
	}}
	got := podIPs(res)
	if len(got) != 2 || !got[0].Equal(net.ParseIP("10.85.0.5")) || !got[1].Equal(net.ParseIP("fd00::5")) {
		t.Errorf("podIPs = %v, want [10.85.0.5 fd00::5]", got)
	}
}

func TestSplitRuleArgs(t *testing.T) {
	line := `POSTROUTING -s 10.1.0.2/32 -m comment --comment "name: \"net\" id: \"pod\"" -j CNI-abc`
	want := []string{"POSTROUTING", "-s", "10.1.0.2/32", "-m", "comment", "--comment", `name: "net" id: "pod"`, "-j", "CNI-abc"}
	if got := splitRuleArgs(line); !reflect.DeepEqual(got, want) {
		t.Errorf("splitRuleArgs = %q, want %q", got, want)
	}
}

// The chain name the bridge plugin gave a pod in a test run (read off
// iptables-save), which the sweep must find by name.
func TestPodChainName(t *testing.T) {
	if got := podChainName("minilet-it-27787-1", "c386e6e27ba7", ""); got != "CNI-196fb4a47a34218ddc163601" {
		t.Fatalf("podChainName = %s", got)
	}
}

func TestWithoutPortmap(t *testing.T) {
	in := `{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge","bridge":"b0"},{"type":"portmap","capabilities":{"portMappings":true}},{"type":"tuning"}]}`
	out, ok, err := withoutPortmap([]byte(in))
	if err != nil || !ok {
		t.Fatalf("withoutPortmap: ok %v, err %v", ok, err)
	}
	var list struct {
		Name    string `json:"name"`
		Plugins []struct {
			Type   string `json:"type"`
			Bridge string `json:"bridge"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatal(err)
	}
	if list.Name != "n" || len(list.Plugins) != 2 || list.Plugins[0].Type != "bridge" || list.Plugins[0].Bridge != "b0" || list.Plugins[1].Type != "tuning" {
		t.Errorf("without portmap: %s", out)
	}
	if _, ok, err := withoutPortmap([]byte(`{"name":"n","plugins":[{"type":"bridge"}]}`)); ok || err != nil {
		t.Errorf("a chain without portmap: ok %v, err %v; want nothing to reduce", ok, err)
	}
	if _, ok, _ := withoutPortmap([]byte(`{"name":"n","plugins":[{"type":"portmap"}]}`)); ok {
		t.Error("a chain of portmap alone was reduced to nothing")
	}
}
