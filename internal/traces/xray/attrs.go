package xray

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// attrs builds an attribute list, skipping empty values.
type attrs []eventstore.Attr

func (a *attrs) str(key, v string) {
	if v != "" {
		*a = append(*a, eventstore.Attr{Key: key, Value: eventstore.StringValue(v)})
	}
}

func (a *attrs) flag(key string, v bool) {
	if v {
		*a = append(*a, eventstore.Attr{Key: key, Value: eventstore.BoolValue(true)})
	}
}

func (a *attrs) value(key string, v eventstore.Value) {
	*a = append(*a, eventstore.Attr{Key: key, Value: v})
}

func (a *attrs) number(key string, n json.Number) {
	if n != "" {
		a.value(key, numberValue(string(n)))
	}
}

func (a attrs) has(key string) bool {
	for _, x := range a {
		if x.Key == key {
			return true
		}
	}
	return false
}

// numberValue types JSON number text: an integer when it is one that fits
// int64, a float otherwise.
func numberValue(s string) eventstore.Value {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return eventstore.IntValue(i)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return eventstore.StringValue(s)
	}
	return eventstore.FloatValue(f)
}

// scalar types a raw JSON string, number or boolean; ok is false for null,
// objects and arrays.
func scalar(raw json.RawMessage) (v eventstore.Value, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return v, false
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return v, false
		}
		return eventstore.StringValue(s), true
	case c == 't':
		return eventstore.BoolValue(true), string(raw) == "true"
	case c == 'f':
		return eventstore.BoolValue(false), string(raw) == "false"
	case c == '-' || c >= '0' && c <= '9':
		return numberValue(string(raw)), true
	}
	return v, false
}

// jsonText is raw JSON compacted, as arrays and opaque values are stored.
func jsonText(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// flatten appends raw under key: scalars typed, objects flattened into
// dotted keys (in key order), arrays as their JSON text; null is skipped.
func (a *attrs) flatten(key string, raw json.RawMessage) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return
	}
	switch raw[0] {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return
		}
		for _, k := range sortedKeys(m) {
			a.flatten(key+"."+k, m[k])
		}
	case '[':
		a.value(key, eventstore.StringValue(jsonText(raw)))
	default:
		if v, ok := scalar(raw); ok {
			a.value(key, v)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func jsonStrings(ss []string) string {
	b, _ := json.Marshal(ss) // []string always marshals
	return string(b)
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
