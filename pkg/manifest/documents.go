package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	yaml2 "go.yaml.in/yaml/v2"
	sigsyaml "sigs.k8s.io/yaml"
)

// document is one YAML or JSON document of a manifest file.
type document struct {
	num   int    // 1-based, counting the documents that are not blank
	line  int    // 1-based line of the file where the document starts
	data  []byte // the document's own bytes (YAML, or JSON for .json files)
	isRaw bool   // data is JSON already
}

// Limits on what a document may become once YAML aliases are expanded. A
// 1 MiB file can otherwise expand a long string through many aliases into
// gigabytes of JSON (go-yaml's own alias limit counts nodes, not bytes).
const (
	maxExpandedBytes = 8 << 20
	maxExpandedNodes = 100_000
	maxNesting       = 64
)

// splitYAML splits a YAML stream into documents at "---" lines (a line that
// starts with "---" followed by nothing or by whitespace, as in the YAML
// spec: document markers sit in column 0, where no block content can be)
// and at "..." document-end lines. Content after "--- " stays in the new
// document, with the marker blanked so columns and lines stay right.
// Blank documents (only whitespace and comments) are dropped.
func splitYAML(data []byte) []document {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var (
		docs  []document
		cur   []byte
		start = 1
		num   = 0
	)
	flush := func() {
		if !blankYAML(cur) {
			num++
			docs = append(docs, document{num: num, line: start, data: cur})
		}
		cur = nil
	}
	line := 0
	for len(data) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i+1], data[i+1:]
		} else {
			l, data = data, nil
		}
		switch {
		case isMarker(l, "---"):
			flush()
			start = line
			rest := l[3:]
			if !blankYAML(rest) {
				cur = append([]byte("   "), rest...)
			} else {
				start = line + 1
			}
		case isMarker(l, "..."):
			flush()
			start = line + 1
		default:
			cur = append(cur, l...)
		}
	}
	flush()
	return docs
}

// isMarker reports whether line is the marker m alone or followed by
// whitespace.
func isMarker(line []byte, m string) bool {
	if !bytes.HasPrefix(line, []byte(m)) {
		return false
	}
	rest := line[len(m):]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r'
}

// blankYAML reports whether b holds only whitespace and comments.
func blankYAML(b []byte) bool {
	for _, l := range bytes.Split(b, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' {
			return false
		}
	}
	return true
}

// splitJSON splits a stream of JSON values into documents.
func splitJSON(data []byte) ([]document, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	dec := json.NewDecoder(bytes.NewReader(data))
	var docs []document
	for {
		start := dec.InputOffset()
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		num := len(docs) + 1
		if err != nil {
			return docs, docError(num, jsonSyntaxError(data, err))
		}
		// InputOffset before Decode may sit before whitespace.
		s := int(start)
		for s < len(data) && isJSONSpace(data[s]) {
			s++
		}
		docs = append(docs, document{num: num, line: lineAt(data, s), data: raw, isRaw: true})
	}
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// lineAt returns the 1-based line of byte offset off.
func lineAt(data []byte, off int) int {
	if off > len(data) {
		off = len(data)
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// jsonSyntaxError names the line of a JSON syntax error.
func jsonSyntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("json syntax error at line %d: %s", lineAt(data, int(se.Offset)), se.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("json syntax error: unexpected end of file (a missing '}' or ']'?)")
	}
	return fmt.Errorf("json syntax error: %w", err)
}

// docError prefixes err with the document number.
func docError(num int, err error) error {
	return fmt.Errorf("document %d: %w", num, err)
}

// toJSON turns one document into JSON, guarding against alias bombs and
// absurd nesting, and reports YAML errors with the file's line numbers.
func (d document) toJSON() ([]byte, error) {
	if d.isRaw {
		var v any
		dec := json.NewDecoder(bytes.NewReader(d.data))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("json syntax error: %w", err)
		}
		if err := checkSize(v); err != nil {
			return nil, err
		}
		return d.data, nil
	}
	var v any
	if err := yaml2.Unmarshal(d.data, &v); err != nil {
		return nil, yamlError(err, d.line)
	}
	if err := checkSize(v); err != nil {
		return nil, err
	}
	// go-yaml's strict mode refuses duplicate keys, but also a key that
	// overrides one merged in with "<<: *anchor", which YAML allows; such
	// documents are converted without the duplicate check.
	convert := sigsyaml.YAMLToJSONStrict
	if bytes.Contains(d.data, []byte("<<")) {
		convert = sigsyaml.YAMLToJSON
	}
	j, err := convert(d.data)
	if err != nil {
		var ue *json.UnsupportedValueError
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("unsupported value %s (infinity and NaN are not numbers a Pod can hold)", ue.Str)
		}
		return nil, yamlError(err, d.line)
	}
	return j, nil
}

var yamlLine = regexp.MustCompile(`^line (\d+): `)

// yamlError rewrites a go-yaml error so it names the line in the file
// (the document starts at line start) and reads as a sentence.
func yamlError(err error, start int) error {
	var te *yaml2.TypeError
	if errors.As(err, &te) {
		var parts []string
		for _, e := range te.Errors {
			msg := strings.Replace(e, "already set in map", "appears twice", 1)
			if m := yamlLine.FindStringSubmatch(msg); m != nil {
				n, _ := strconv.Atoi(m[1])
				parts = append(parts, fmt.Sprintf("yaml error at line %d: %s", n+start-1, strings.TrimPrefix(msg, m[0])))
			} else {
				parts = append(parts, "yaml error: "+msg)
			}
		}
		return errors.New(strings.Join(parts, "; "))
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.TrimPrefix(msg, m[0])
	}
	if isParserProblem(msg) {
		// go-yaml reports parser (not scanner) errors with a 0-based line,
		// and none at all on the first line.
		line++
	}
	if line > 0 {
		return fmt.Errorf("yaml syntax error at line %d: %s", line+start-1, msg)
	}
	return fmt.Errorf("yaml error: %s", msg)
}

// isParserProblem tells go-yaml's parser errors from its scanner errors.
func isParserProblem(msg string) bool {
	switch msg {
	case "found duplicate %TAG directive", "found duplicate %YAML directive",
		"found incompatible YAML document", "found undefined tag handle":
		return true
	}
	return strings.HasPrefix(msg, "did not find expected ")
}

// checkSize walks a decoded document and refuses one that nests deeper than
// any Pod or that YAML aliases expand beyond the limits.
func checkSize(v any) error {
	var nodes, bytes int
	var walk func(v any, depth int) error
	walk = func(v any, depth int) error {
		nodes++
		if depth > maxNesting {
			return fmt.Errorf("document nests deeper than %d levels; no Pod does", maxNesting)
		}
		if nodes > maxExpandedNodes || bytes > maxExpandedBytes {
			return tooLarge()
		}
		switch t := v.(type) {
		case string:
			bytes += len(t)
		case map[any]any:
			for k, e := range t {
				if s, ok := k.(string); ok {
					bytes += len(s)
				}
				if err := walk(e, depth+1); err != nil {
					return err
				}
			}
		case map[string]any:
			for k, e := range t {
				bytes += len(k)
				if err := walk(e, depth+1); err != nil {
					return err
				}
			}
		case []any:
			for _, e := range t {
				if err := walk(e, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(v, 0); err != nil {
		return err
	}
	if bytes > maxExpandedBytes {
		return tooLarge()
	}
	return nil
}

func tooLarge() error {
	return fmt.Errorf("document holds more than %d values or %d MiB of text once YAML aliases are expanded; no Pod is that big", maxExpandedNodes, maxExpandedBytes>>20)
}
