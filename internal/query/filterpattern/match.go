package filterpattern

import (
	"strconv"
	"strings"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// Event is what a pattern is matched against.
type Event struct {
	Message string
	// Fields resolves a flattened JSON path ("a.b", "list.1.id") when the
	// message is not a JSON object: Mirador's NDJSON ingest keeps JSON
	// fields as attributes. nil: JSON patterns look at Message only.
	Fields func(path string) (eventstore.Value, bool)
}

// Extracted holds the values a match captured, for metric filters: the
// named fields of a space-delimited pattern, or JSON paths of the event.
type Extracted struct {
	fields map[string]string
	doc    *jsonDoc
}

// indexPath turns "a[0].b" into the flattened path "a.0.b".
var indexPath = strings.NewReplacer("[", ".", "]", "")

// Get returns the value of "$name" (space-delimited) or "$.a.b[0]" (JSON).
func (x Extracted) Get(ref string) (eventstore.Value, bool) {
	if strings.HasPrefix(ref, "$.") && x.doc != nil {
		path := ref[2:]
		if strings.ContainsAny(path, "[]") {
			path = indexPath.Replace(path)
		}
		v, null, ok := x.doc.lookup(path)
		return v, ok && !null
	}
	v, ok := x.fields[strings.TrimPrefix(ref, "$")]
	return eventstore.StringValue(v), ok
}

// Fields returns the named fields a space-delimited pattern captured, keyed
// "$name" as TestMetricFilter reports them.
func (x Extracted) Fields() map[string]string {
	out := make(map[string]string, len(x.fields))
	for k, v := range x.fields {
		out["$"+k] = v
	}
	return out
}

// Match reports whether e matches the pattern.
func (p *Pattern) Match(e Event) bool {
	ok, _ := p.match(e, false)
	return ok
}

// MatchExtract is Match that also returns what the match captured.
func (p *Pattern) MatchExtract(e Event) (bool, Extracted) {
	return p.match(e, true)
}

func (p *Pattern) match(e Event, extract bool) (bool, Extracted) {
	switch p.kind {
	case kindAll:
		return true, Extracted{}
	case kindTerms:
		return p.matchTerms(e.Message), Extracted{}
	case kindJSON:
		doc := &jsonDoc{ev: e}
		if !doc.applies() {
			return false, Extracted{}
		}
		return p.json.eval(doc), Extracted{doc: doc}
	}
	return p.matchDelimited(e.Message, extract)
}

func (p *Pattern) matchTerms(msg string) bool {
	for _, m := range p.must {
		if !m.match(msg) {
			return false
		}
	}
	if len(p.any) > 0 {
		found := false
		for _, m := range p.any {
			if m.match(msg) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, m := range p.not {
		if m.match(msg) {
			return false
		}
	}
	return true
}

func (p *Pattern) matchDelimited(msg string, extract bool) (bool, Extracted) {
	var buf [32]string
	vals := splitFields(msg, buf[:0])
	n := len(p.fields)
	var pairs [][2]int // (pattern slot, message field)
	switch {
	case p.ellipsis < 0:
		if len(vals) != n {
			return false, Extracted{}
		}
		for i := range n {
			pairs = append(pairs, [2]int{i, i})
		}
	default:
		before, after := p.ellipsis, n-p.ellipsis-1
		if len(vals) < before+after {
			return false, Extracted{}
		}
		for i := range before {
			pairs = append(pairs, [2]int{i, i})
		}
		for i := range after {
			pairs = append(pairs, [2]int{p.ellipsis + 1 + i, len(vals) - after + i})
		}
	}
	named := map[string]string{}
	for _, pr := range pairs {
		if f := p.fields[pr[0]]; f.name != "" {
			named[f.name] = vals[pr[1]]
		}
	}
	doc := &jsonDoc{parsed: true, ev: Event{Fields: func(name string) (eventstore.Value, bool) {
		v, ok := named[name]
		if !ok {
			return eventstore.Value{}, false
		}
		if i, err := parseIntStrict(v); err == nil {
			return eventstore.IntValue(i), true
		}
		if f, ok := number(v); ok {
			return eventstore.FloatValue(f), true
		}
		return eventstore.StringValue(v), true
	}}}
	for _, pr := range pairs {
		if c := p.fields[pr[0]].cond; c != nil && !c.eval(doc) {
			return false, Extracted{}
		}
	}
	if !extract {
		return true, Extracted{}
	}
	return true, Extracted{fields: named}
}

func parseIntStrict(s string) (int64, error) {
	return strconv.ParseInt(s, 10, 64)
}
