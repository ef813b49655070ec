package manifest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// maxProblems caps how many field problems one document reports.
const maxProblems = 10

// fieldChecker walks a generic JSON value (decoded with UseNumber) against
// the Go type it will be decoded into, the way sigs.k8s.io/json decodes it
// (case-sensitive json names, inline embedded structs), and names every
// field that would not decode with its full path: unknown fields, wrong
// types, numbers out of range, bad quantities. The JSON decoder reports
// wrong types without list indexes and custom decoders (quantities) without
// any path; this is what a tired operator needs instead.
type fieldChecker struct {
	problems []string
	// redact keeps values out of messages (a Secret's values must not
	// reach logs, events or the CLI).
	redact bool
	fields map[reflect.Type]map[string]reflect.Type // struct → JSON name → field type
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	quantityType    = reflect.TypeFor[resource.Quantity]()
	intOrStringType = reflect.TypeFor[intstr.IntOrString]()
)

// checkFields returns the problems of v as a value of type t; with redact,
// the messages name no value.
func checkFields(v any, t reflect.Type, redact bool) []string {
	c := &fieldChecker{fields: map[reflect.Type]map[string]reflect.Type{}, redact: redact}
	c.check("", v, t)
	return c.problems
}

func (c *fieldChecker) add(path, format string, args ...any) {
	if len(c.problems) >= maxProblems {
		return
	}
	if path == "" {
		path = "(document)"
	}
	c.problems = append(c.problems, path+": "+fmt.Sprintf(format, args...))
}

func (c *fieldChecker) full() bool { return len(c.problems) >= maxProblems }

func (c *fieldChecker) check(path string, v any, t reflect.Type) {
	if v == nil || c.full() {
		return // null leaves any field at its zero value
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		c.checkUnmarshaler(path, v, t)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			c.wrongType(path, "object", v)
			return
		}
		fields := c.structFields(t)
		for _, k := range sortedKeys(obj) {
			ft, ok := fields[k]
			if !ok {
				c.add(join(path, k), "unknown field%s", suggest(k, fields))
				continue
			}
			c.check(join(path, k), obj[k], ft)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			c.wrongType(path, "object", v)
			return
		}
		for _, k := range sortedKeys(obj) {
			c.check(path+"["+k+"]", obj[k], t.Elem())
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			str, ok := v.(string)
			if !ok {
				c.wrongType(path, "base64 string", v)
				return
			}
			if _, err := base64.StdEncoding.DecodeString(str); err != nil {
				c.add(path, "not valid base64 (%v): values under data are base64-encoded; write plain text under stringData instead", err)
			}
			return
		}
		list, ok := v.([]any)
		if !ok {
			c.wrongType(path, "list", v)
			return
		}
		for i, e := range list {
			c.check(path+"["+strconv.Itoa(i)+"]", e, t.Elem())
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			c.wrongType(path, "string", v)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			c.wrongType(path, "boolean (true or false)", v)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			c.wrongType(path, t.Kind().String(), v)
			return
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			c.badNumber(path, t.Kind().String(), n, err)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			c.wrongType(path, t.Kind().String(), v)
			return
		}
		if _, err := strconv.ParseUint(string(n), 10, t.Bits()); err != nil {
			c.badNumber(path, t.Kind().String(), n, err)
		}
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			c.wrongType(path, "number", v)
			return
		}
		if f, err := strconv.ParseFloat(string(n), t.Bits()); err != nil || math.IsInf(f, 0) {
			c.add(path, "number %s is out of range", n)
		}
	case reflect.Interface:
		// anything decodes into an interface
	default:
		c.add(path, "cannot be set from a manifest")
	}
}

// checkUnmarshaler decodes v with the type's own UnmarshalJSON, which is
// where quantities, int-or-strings and times are checked.
func (c *fieldChecker) checkUnmarshaler(path string, v any, t reflect.Type) {
	switch t {
	case intOrStringType:
		switch n := v.(type) {
		case string:
			return
		case json.Number:
			if _, err := strconv.ParseInt(string(n), 10, 32); err != nil {
				c.add(path, "wrong type: expected a port number or a port name, got number %s", n)
			}
			return
		default:
			c.wrongType(path, "an integer or a string", v)
			return
		}
	case quantityType:
		switch q := v.(type) {
		case string, json.Number:
			if _, err := resource.ParseQuantity(strings.TrimSpace(fmt.Sprint(q))); err != nil {
				c.add(path, "invalid quantity %q: write it like 128Mi, 1Gi, 500m or 2", fmt.Sprint(q))
			}
		default:
			c.wrongType(path, "a quantity (like 128Mi, 1Gi, 500m or 2)", v)
		}
		return
	}
	raw, err := json.Marshal(v)
	if err != nil {
		c.add(path, "cannot re-encode value: %v", err)
		return
	}
	if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
		c.add(path, "invalid value %s: %v", describe(v), err)
	}
}

func (c *fieldChecker) wrongType(path, want string, v any) {
	if c.redact {
		if _, scalar := v.(map[string]any); !scalar {
			if _, list := v.([]any); !list && v != nil {
				c.add(path, "wrong type: expected %s, got a %s (value not shown)", want, scalarKind(v))
				return
			}
		}
	}
	hint := ""
	if want == "string" {
		switch v.(type) {
		case json.Number, bool:
			hint = " (put it in quotes to make it a string)"
		}
	}
	c.add(path, "wrong type: expected %s, got %s%s", want, describe(v), hint)
}

func (c *fieldChecker) badNumber(path, want string, n json.Number, err error) {
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		c.add(path, "number %s is out of range for %s", n, want)
		return
	}
	c.add(path, "wrong type: expected %s, got number %s", want, n)
}

// structFields lists the JSON names a struct decodes, inline embedded
// structs included, like encoding/json.
func (c *fieldChecker) structFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := c.fields[t]; ok {
		return f
	}
	out := map[string]reflect.Type{}
	var collect func(t reflect.Type)
	collect = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if sf.Anonymous && name == "" {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					collect(ft)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if _, dup := out[name]; !dup {
				out[name] = sf.Type
			}
		}
	}
	collect(t)
	c.fields[t] = out
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// describe names a JSON value for an error message.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return describeScalar(v)
}

// scalarKind names a scalar's JSON type.
func scalarKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

func describeScalar(v any) string {
	switch t := v.(type) {
	case string:
		if len(t) > 60 {
			t = t[:60] + "..."
		}
		return "string " + strconv.Quote(t)
	case json.Number:
		s := string(t)
		if len(s) > 40 {
			s = s[:40] + "..."
		}
		return "number " + s
	case bool:
		return "boolean " + strconv.FormatBool(t)
	}
	return fmt.Sprintf("%T", v)
}

// suggest proposes the known field closest to an unknown one.
func suggest(name string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for k := range fields {
		d := editDistance(strings.ToLower(name), strings.ToLower(k))
		if d < bestD || (d == bestD && best != "" && k < best) {
			best, bestD = k, d
		}
	}
	if best == "" || bestD > len(name)/2 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
