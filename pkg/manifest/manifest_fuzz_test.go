package manifest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecode checks that DecodeAll never panics, that every pod and object
// it returns passes validation again, and that decoding its own JSON from
// the same path gives the same pod (hash and UID) or object (hash). Seeds
// are in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(podYAML("", "")), false)
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		path := "/etc/minilet/fuzz.yaml"
		if asJSON {
			path = "/etc/minilet/fuzz.json"
		}
		opts := Options{NodeName: "node1"}
		pods, objects, err := DecodeAll(path, data, opts)
		if err != nil {
			if pods != nil || objects != nil {
				t.Fatalf("pods or objects and an error: %v", err)
			}
			return
		}
		for _, o := range objects {
			checkObjectAgain(t, path, o)
		}
		for _, p := range pods {
			if len(p.Hash) != 32 || string(p.Pod.UID) == "" || p.File != path {
				t.Fatalf("pod %s: hash %q uid %q file %q", podKey(p.Pod), p.Hash, p.Pod.UID, p.File)
			}
			if errs := validatePod(p.Pod.DeepCopy()); len(errs) > 0 {
				t.Fatalf("pod %s fails validation again: %v", podKey(p.Pod), errs)
			}
			out, err := json.Marshal(p.Pod)
			if err != nil {
				t.Fatalf("pod %s cannot be encoded: %v", podKey(p.Pod), err)
			}
			again, err := Decode(path, out, opts)
			if err != nil {
				t.Fatalf("pod %s: its own JSON does not decode: %v\n%s", podKey(p.Pod), err, out)
			}
			if len(again) != 1 {
				t.Fatalf("pod %s: its own JSON gave %d pods", podKey(p.Pod), len(again))
			}
			if again[0].Hash != p.Hash || again[0].Pod.UID != p.Pod.UID {
				t.Fatalf("pod %s: hash %s uid %s, again hash %s uid %s\n%s", podKey(p.Pod), p.Hash, p.Pod.UID, again[0].Hash, again[0].Pod.UID, out)
			}
			if !reflect.DeepEqual(mustJSON(t, again[0].Pod), string(out)) {
				t.Fatalf("pod %s changed on a round trip:\n%s\n%s", podKey(p.Pod), out, mustJSON(t, again[0].Pod))
			}
		}
	})
}

func checkObjectAgain(t *testing.T, path string, o Object) {
	t.Helper()
	var errs []string
	var v any
	switch {
	case o.ConfigMap != nil:
		v = o.ConfigMap
		for _, e := range validateConfigMap(o.ConfigMap.DeepCopy()) {
			errs = append(errs, e.Error())
		}
	case o.Secret != nil:
		v = o.Secret
		for _, e := range validateSecret(o.Secret.DeepCopy()) {
			errs = append(errs, e.Error())
		}
	default:
		v = o.Claim
		for _, e := range validateClaim(o.Claim.DeepCopy()) {
			errs = append(errs, e.Error())
		}
	}
	if len(errs) > 0 {
		t.Fatalf("%s fails validation again: %v", o.Key(), errs)
	}
	doc := mustJSON(t, v)
	_, again, err := DecodeAll(path, []byte(doc), Options{})
	if err != nil || len(again) != 1 {
		t.Fatalf("%s: its own JSON does not decode to one object: %v\n%s", o.Key(), err, doc)
	}
	if again[0].Hash != o.Hash || again[0].Key() != o.Key() {
		t.Fatalf("%s changed on a round trip: hash %s, again %s %s", o.Key(), o.Hash, again[0].Key(), again[0].Hash)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFuzzSeeds keeps the seed corpus honest: valid_* seeds decode, bad_*
// seeds do not.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		valid, broken := strings.HasPrefix(name, "valid_"), strings.HasPrefix(name, "bad_")
		if !valid && !broken {
			continue // a crasher the fuzzer found: FuzzDecode runs it
		}
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(raw), "\n")
		data, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		path := "/etc/minilet/seed.yaml"
		if lines[2] == "bool(true)" {
			path = "/etc/minilet/seed.json"
		}
		pods, objects, err := DecodeAll(path, []byte(data), Options{})
		switch {
		case valid && (err != nil || len(pods)+len(objects) == 0):
			t.Errorf("%s: %d pods, %d objects, %v", name, len(pods), len(objects), err)
		case broken && err == nil:
			t.Errorf("%s: decoded without an error", name)
		}
	}
}
