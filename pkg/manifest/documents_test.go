package manifest

import (
	"runtime"
	"strings"
	"testing"
)

func TestSplitYAML(t *testing.T) {
	in := "# preamble\n---\na: 1\n---   \n\n# just a comment\n--- # marker comment\nb: 2\n...\n---\nc: |\n  ---\n  not a marker (indented)\n--- {d: 4}\n"
	docs := splitYAML([]byte(in))
	type want struct {
		num, line int
		has       string
	}
	wants := []want{{1, 3, "a: 1"}, {2, 8, "b: 2"}, {3, 11, "not a marker"}, {4, 14, "{d: 4}"}}
	if len(docs) != len(wants) {
		for _, d := range docs {
			t.Logf("doc %d line %d: %q", d.num, d.line, d.data)
		}
		t.Fatalf("got %d documents, want %d", len(docs), len(wants))
	}
	for i, w := range wants {
		d := docs[i]
		if d.num != w.num || d.line != w.line || !strings.Contains(string(d.data), w.has) {
			t.Errorf("document %d: num %d line %d data %q; want num %d line %d containing %q", i, d.num, d.line, d.data, w.num, w.line, w.has)
		}
	}
}

func TestYAMLErrorLines(t *testing.T) {
	// The flow list opened on line 13 of the file, in the second document,
	// is found unclosed on line 14.
	in := podYAML("", "") + "---\n# comment\napiVersion: v1\nkind: Pod\nimage: [unclosed\nmetadata: {}\n"
	_, err := Decode(testFile, []byte(in), Options{})
	wantErr(t, err, "document 2: yaml syntax error at line 14")
}

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestAliasBombs(t *testing.T) {
	laughs := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: lol\n  labels: {}\nx:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		laughs += "  " + n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+",", 9), ",") + "]\n"
		prev = n
	}
	// A long string repeated through few aliases: go-yaml's alias limit
	// counts nodes and lets this through; expanded it is 700 MiB of JSON.
	long := "apiVersion: v1\nkind: Pod\nmetadata: {name: s}\nx:\n  s: &s \"" + strings.Repeat("x", 900_000) + "\"\n  l: [" +
		strings.TrimSuffix(strings.Repeat("*s,", 800), ",") + "]\n"
	// Nested maps of long strings.
	nested := "apiVersion: v1\nkind: Pod\nx:\n  a: &a {k: \"" + strings.Repeat("y", 200_000) + "\"}\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n  c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n  d: [*c, *c, *c, *c, *c, *c, *c, *c]\n"

	// Just under go-yaml's own alias limit: 1% written out, 99% aliases.
	ratio := "apiVersion: v1\nkind: Pod\nx:\n  l0: &l0 [" + strings.TrimSuffix(strings.Repeat("a,", 5000), ",") +
		"]\n  l1: [" + strings.TrimSuffix(strings.Repeat("*l0,", 80), ",") + "]\n"

	for name, c := range map[string]struct {
		doc  string
		want string
	}{
		"many nodes":     {ratio, "once YAML aliases are expanded; no Pod is that big"},
		"billion laughs": {laughs, "excessive aliasing"},
		"long string":    {long, "once YAML aliases are expanded; no Pod is that big"},
		"nested":         {nested, "once YAML aliases are expanded; no Pod is that big"},
	} {
		t.Run(name, func(t *testing.T) {
			if len(c.doc) > MaxFileSize {
				t.Fatalf("test document is %d bytes, over the file limit", len(c.doc))
			}
			var err error
			n := allocated(func() { _, err = Decode(testFile, []byte(c.doc), Options{}) })
			wantErr(t, err, c.want)
			t.Logf("%d KiB document: allocated %d MiB, %v", len(c.doc)>>10, n>>20, err)
			if n > 64<<20 {
				t.Errorf("decoding allocated %d MiB", n>>20)
			}
		})
	}
}

func TestNesting(t *testing.T) {
	for name, c := range map[string]struct {
		path, doc, want string
	}{
		"yaml flow":  {testFile, "apiVersion: v1\nkind: Pod\nx: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n", "exceeded max depth"},
		"yaml":       {testFile, "apiVersion: v1\nkind: Pod\nx: " + strings.Repeat("[", 500) + strings.Repeat("]", 500) + "\n", "nests deeper than 64 levels"},
		"json":       {"/etc/minilet/x.json", `{"apiVersion":"v1","kind":"Pod","x":` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + "}", "exceeded max depth"},
		"json depth": {"/etc/minilet/x.json", `{"apiVersion":"v1","kind":"Pod","x":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + "}", "nests deeper than 64 levels"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(c.path, []byte(c.doc), Options{})
			wantErr(t, err, c.want)
		})
	}
}
