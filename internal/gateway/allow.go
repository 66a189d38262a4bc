package gateway

import (
	"encoding/json"
	"slices"
	"strings"
)

// allowIndex knows, from the OpenAPI document, which HTTP methods each
// REST path serves, for the Allow header a 405 must carry (RFC 9110).
type allowIndex []struct {
	segments []string // "v1", "customers", "{customerId}", "{month}:close"
	methods  []string
}

func newAllowIndex(spec []byte) allowIndex {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if json.Unmarshal(spec, &doc) != nil {
		return nil
	}
	var idx allowIndex
	for path, ops := range doc.Paths {
		var methods []string
		for m := range ops {
			methods = append(methods, strings.ToUpper(m))
		}
		idx = append(idx, struct {
			segments []string
			methods  []string
		}{strings.Split(strings.Trim(path, "/"), "/"), methods})
	}
	return idx
}

// allowed returns the methods that path serves, sorted; GET implies HEAD.
func (idx allowIndex) allowed(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var out []string
	for _, t := range idx {
		if matchSegments(t.segments, segs) {
			out = append(out, t.methods...)
		}
	}
	if slices.Contains(out, "GET") {
		out = append(out, "HEAD")
	}
	slices.Sort(out)
	return strings.Join(slices.Compact(out), ", ")
}

func matchSegments(tpl, segs []string) bool {
	if len(tpl) != len(segs) {
		return false
	}
	for i, t := range tpl {
		s := segs[i]
		if !strings.HasPrefix(t, "{") {
			if t != s {
				return false
			}
			continue
		}
		// "{name}" or "{name}:verb": any non-empty value, then the verb.
		verb := t[strings.Index(t, "}")+1:]
		if !strings.HasSuffix(s, verb) || len(s) == len(verb) {
			return false
		}
	}
	return true
}
