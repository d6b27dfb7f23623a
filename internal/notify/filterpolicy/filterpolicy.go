// Package filterpolicy implements SNS subscription filter policies: a
// JSON policy that a message's attributes (or, with scope MessageBody, its
// JSON body) must match for the subscription to receive it.
//
// Every key of a policy must match (AND); a key's conditions are
// alternatives (OR); an array value matches when one of its elements
// does. Conditions: exact strings and numbers, numeric ranges, prefix,
// suffix, equals-ignore-case, anything-but, exists, cidr, and "$or".
package filterpolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Limits of a policy, as SNS's.
const (
	MaxKeys         = 5   // top-level keys
	MaxCombinations = 150 // product of the sizes of the value arrays
	maxNumber       = 1e9
)

// Scope says what a policy filters on.
type Scope string

// Scopes.
const (
	MessageAttributes Scope = "MessageAttributes"
	MessageBody       Scope = "MessageBody"
)

// Policy is a parsed filter policy.
type Policy struct {
	fields map[string]*field // key → conditions or nested policy
	or     []*Policy         // "$or": alternatives, each ANDed with fields
}

type field struct {
	conds  []cond  // a leaf: alternatives
	nested *Policy // MessageBody scope: an object mirroring the body
}

type cond func(v any, present bool) bool

// Attribute is a message attribute as SNS's Publish takes it.
type Attribute struct {
	DataType string // String, String.Array, Number or Binary
	Value    string
}

// Parse parses a policy for scope, checking SNS's limits. Errors name the
// key and what is wrong with it.
func Parse(src []byte, scope Scope) (*Policy, error) {
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("filter policy: not a JSON object: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("filter policy: more than one JSON value")
	}
	if scope != MessageAttributes && scope != MessageBody {
		return nil, fmt.Errorf("FilterPolicyScope %q: want MessageAttributes or MessageBody", scope)
	}
	if n := topKeys(raw); n > MaxKeys {
		return nil, fmt.Errorf("filter policy: %d keys; at most %d are allowed", n, MaxKeys)
	}
	p, combos, err := parseObject(raw, scope, "")
	if err != nil {
		return nil, err
	}
	if combos > MaxCombinations {
		return nil, fmt.Errorf("filter policy: %d combinations of values; at most %d are allowed (the product of the sizes of the value arrays)", combos, MaxCombinations)
	}
	return p, nil
}

func topKeys(raw map[string]any) int {
	n := 0
	for k := range raw {
		if k != "$or" {
			n++
		}
	}
	return n
}

func parseObject(raw map[string]any, scope Scope, path string) (*Policy, int, error) {
	p := &Policy{fields: map[string]*field{}}
	combos := 1
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		v := raw[k]
		at := join(path, k)
		if k == "$or" {
			alts, ok := v.([]any)
			if !ok || len(alts) < 2 {
				return nil, 0, fmt.Errorf("filter policy: %s: want an array of at least two policies", at)
			}
			sum := 0
			for i, a := range alts {
				obj, ok := a.(map[string]any)
				if !ok {
					return nil, 0, fmt.Errorf("filter policy: %s[%d]: want an object", at, i)
				}
				sub, n, err := parseObject(obj, scope, path)
				if err != nil {
					return nil, 0, err
				}
				p.or = append(p.or, sub)
				sum += n
			}
			combos *= sum
			continue
		}
		switch v := v.(type) {
		case []any:
			if len(v) == 0 {
				return nil, 0, fmt.Errorf("filter policy: %s: the array of values is empty", at)
			}
			f := &field{}
			for _, c := range v {
				cd, err := parseCond(c, at)
				if err != nil {
					return nil, 0, err
				}
				f.conds = append(f.conds, cd)
			}
			p.fields[k] = f
			combos *= len(v)
		case map[string]any:
			if scope != MessageBody {
				return nil, 0, fmt.Errorf("filter policy: %s: nested objects need FilterPolicyScope MessageBody; with MessageAttributes a key takes an array of values", at)
			}
			sub, n, err := parseObject(v, scope, at)
			if err != nil {
				return nil, 0, err
			}
			p.fields[k] = &field{nested: sub}
			combos *= n
		default:
			return nil, 0, fmt.Errorf("filter policy: %s: want an array of values, e.g. [\"value\"]", at)
		}
	}
	return p, combos, nil
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func parseCond(c any, at string) (cond, error) {
	switch c := c.(type) {
	case string:
		return func(v any, ok bool) bool { s, isStr := v.(string); return ok && isStr && s == c }, nil
	case json.Number:
		f, err := number(c, at)
		if err != nil {
			return nil, err
		}
		return func(v any, ok bool) bool { x, isNum := v.(float64); return ok && isNum && x == f }, nil
	case nil:
		return nil, fmt.Errorf("filter policy: %s: null is not a value SNS matches; use {\"exists\": false}", at)
	case map[string]any:
		if len(c) != 1 {
			return nil, fmt.Errorf("filter policy: %s: an operator object has exactly one key, e.g. {\"prefix\": \"x\"}", at)
		}
		for op, arg := range c {
			return parseOperator(op, arg, at)
		}
	}
	return nil, fmt.Errorf("filter policy: %s: %v is not a string, number or operator object", at, c)
}

func parseOperator(op string, arg any, at string) (cond, error) {
	str := func() (string, error) {
		s, ok := arg.(string)
		if !ok {
			return "", fmt.Errorf("filter policy: %s: %s takes a string", at, op)
		}
		return s, nil
	}
	switch op {
	case "prefix", "suffix", "equals-ignore-case":
		s, err := str()
		if err != nil {
			return nil, err
		}
		m := stringMatcher(op, s)
		return func(v any, ok bool) bool { x, isStr := v.(string); return ok && isStr && m(x) }, nil
	case "exists":
		want, ok := arg.(bool)
		if !ok {
			return nil, fmt.Errorf("filter policy: %s: exists takes true or false", at)
		}
		return func(_ any, present bool) bool { return present == want }, nil
	case "cidr":
		s, err := str()
		if err != nil {
			return nil, err
		}
		prefix, perr := netip.ParsePrefix(s)
		if perr != nil {
			return nil, fmt.Errorf("filter policy: %s: cidr %q is not an IP prefix such as 10.0.0.0/24", at, s)
		}
		return func(v any, ok bool) bool {
			x, isStr := v.(string)
			ip, err := netip.ParseAddr(x)
			return ok && isStr && err == nil && prefix.Contains(ip)
		}, nil
	case "numeric":
		return parseNumeric(arg, at)
	case "anything-but":
		return parseAnythingBut(arg, at)
	}
	return nil, fmt.Errorf("filter policy: %s: unknown operator %q (want prefix, suffix, equals-ignore-case, anything-but, numeric, exists or cidr)", at, op)
}

func stringMatcher(op, s string) func(string) bool {
	switch op {
	case "prefix":
		return func(x string) bool { return strings.HasPrefix(x, s) }
	case "suffix":
		return func(x string) bool { return strings.HasSuffix(x, s) }
	}
	return func(x string) bool { return strings.EqualFold(x, s) }
}

func number(n json.Number, at string) (float64, error) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.Abs(f) > maxNumber {
		return 0, fmt.Errorf("filter policy: %s: %s is not a number from -1e9 to 1e9", at, n)
	}
	return f, nil
}

func parseNumeric(arg any, at string) (cond, error) {
	list, ok := arg.([]any)
	if !ok || len(list) != 2 && len(list) != 4 {
		return nil, fmt.Errorf("filter policy: %s: numeric takes [op, n] or [op, n, op, n], e.g. [\">\", 0, \"<=\", 100]", at)
	}
	var tests []func(float64) bool
	lower, upper := false, false
	for i := 0; i < len(list); i += 2 {
		op, _ := list[i].(string)
		n, isNum := list[i+1].(json.Number)
		if !isNum {
			return nil, fmt.Errorf("filter policy: %s: numeric: %v is not a number", at, list[i+1])
		}
		f, err := number(n, at)
		if err != nil {
			return nil, err
		}
		var t func(float64) bool
		switch op {
		case "=":
			t = func(x float64) bool { return x == f }
			lower, upper = true, true
		case ">", ">=":
			if lower {
				return nil, fmt.Errorf("filter policy: %s: numeric has two lower bounds", at)
			}
			lower = true
			t = func(x float64) bool { return x > f || op == ">=" && x == f }
		case "<", "<=":
			if upper {
				return nil, fmt.Errorf("filter policy: %s: numeric has two upper bounds", at)
			}
			upper = true
			t = func(x float64) bool { return x < f || op == "<=" && x == f }
		default:
			return nil, fmt.Errorf("filter policy: %s: numeric operator %v: want =, <, <=, > or >=", at, list[i])
		}
		tests = append(tests, t)
	}
	if len(list) == 4 && (list[0] == "=" || list[2] == "=") {
		return nil, fmt.Errorf("filter policy: %s: numeric \"=\" stands alone", at)
	}
	return func(v any, ok bool) bool {
		x, isNum := v.(float64)
		if !ok || !isNum {
			return false
		}
		for _, t := range tests {
			if !t(x) {
				return false
			}
		}
		return true
	}, nil
}

func parseAnythingBut(arg any, at string) (cond, error) {
	var excluded []cond
	switch a := arg.(type) {
	case string, json.Number:
		c, err := parseCond(a, at)
		if err != nil {
			return nil, err
		}
		excluded = append(excluded, c)
	case []any:
		if len(a) == 0 {
			return nil, fmt.Errorf("filter policy: %s: anything-but with an empty list", at)
		}
		for _, x := range a {
			switch x.(type) {
			case string, json.Number:
			default:
				return nil, fmt.Errorf("filter policy: %s: anything-but lists strings or numbers", at)
			}
			c, err := parseCond(x, at)
			if err != nil {
				return nil, err
			}
			excluded = append(excluded, c)
		}
	case map[string]any:
		if len(a) != 1 {
			return nil, fmt.Errorf("filter policy: %s: anything-but takes one of prefix or suffix", at)
		}
		for op, s := range a {
			if op != "prefix" && op != "suffix" {
				return nil, fmt.Errorf("filter policy: %s: anything-but takes prefix or suffix, not %q", at, op)
			}
			c, err := parseOperator(op, s, at)
			if err != nil {
				return nil, err
			}
			excluded = append(excluded, c)
		}
	default:
		return nil, fmt.Errorf("filter policy: %s: anything-but takes a string, number, list or {\"prefix\": …}", at)
	}
	return func(v any, ok bool) bool {
		if !ok {
			return false
		}
		for _, c := range excluded {
			if c(v, true) {
				return false
			}
		}
		return true
	}, nil
}

// MatchAttributes reports whether message attributes pass the policy.
// Binary attributes are not considered; a String.Array is matched element
// by element; a Number is compared numerically.
func (p *Policy) MatchAttributes(attrs map[string]Attribute) bool {
	obj := map[string]any{}
	for k, a := range attrs {
		switch a.DataType {
		case "String":
			obj[k] = a.Value
		case "Number":
			if f, err := strconv.ParseFloat(a.Value, 64); err == nil {
				obj[k] = f
			}
		case "String.Array":
			var arr []any
			if err := json.Unmarshal([]byte(a.Value), &arr); err == nil {
				obj[k] = arr
			}
		}
	}
	return p.match(obj)
}

// MatchBody reports whether a JSON message body passes the policy; a body
// that is not a JSON object does not.
func (p *Policy) MatchBody(body []byte) bool {
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		return false
	}
	return p.match(obj)
}

func (p *Policy) match(obj map[string]any) bool {
	for k, f := range p.fields {
		v, present := obj[k]
		if f.nested != nil {
			sub, isObj := v.(map[string]any)
			if !isObj || !f.nested.match(sub) {
				return false
			}
			continue
		}
		if !f.matches(v, present) {
			return false
		}
	}
	if len(p.or) == 0 {
		return true
	}
	for _, alt := range p.or {
		if alt.match(obj) {
			return true
		}
	}
	return false
}

func (f *field) matches(v any, present bool) bool {
	if arr, isArr := v.([]any); isArr {
		for _, x := range arr {
			if f.matches(x, true) {
				return true
			}
		}
		return false
	}
	for _, c := range f.conds {
		if c(v, present) {
			return true
		}
	}
	return false
}
