package sampling

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Request describes a request to sample, in the terms rules match on.
type Request struct {
	ServiceName string
	ServiceType string // the segment's origin, e.g. AWS::EC2::Instance
	Host        string
	HTTPMethod  string
	URLPath     string
	ResourceARN string
	Attributes  map[string]string
}

// Match returns the rule that decides req: the first, by Priority and
// then by RuleName, whose patterns all match. It returns the zero Rule when
// none does; the rules Store.List returns always include Default, which
// matches every request.
//
// As in the X-Ray SDKs, an empty field of req is not compared (a request
// without a host matches any Host pattern), while every attribute of the
// rule must be present in req.Attributes and match.
func Match(rules []Rule, req Request) Rule {
	ordered := slices.Clone(rules)
	sortRules(ordered)
	for _, r := range ordered {
		if r.matches(req) {
			return r
		}
	}
	return Rule{}
}

// sortRules orders rules as clients evaluate them: ascending Priority,
// ties by RuleName (byte order, as the X-Ray SDKs compare).
func sortRules(rules []Rule) {
	slices.SortStableFunc(rules, func(a, b Rule) int {
		if c := cmp.Compare(a.Priority, b.Priority); c != 0 {
			return c
		}
		return strings.Compare(a.RuleName, b.RuleName)
	})
}

func (r Rule) matches(req Request) bool {
	for _, f := range [...]struct{ pattern, value string }{
		{r.ServiceName, req.ServiceName},
		{r.ServiceType, req.ServiceType},
		{r.Host, req.Host},
		{r.HTTPMethod, req.HTTPMethod},
		{r.URLPath, req.URLPath},
		{r.ResourceARN, req.ResourceARN},
	} {
		if f.value != "" && !GlobMatch(f.pattern, f.value) {
			return false
		}
	}
	for k, pattern := range r.Attributes {
		v, ok := req.Attributes[k]
		if !ok || !GlobMatch(pattern, v) {
			return false
		}
	}
	return true
}

// GlobMatch reports whether text matches pattern, where '*' matches any
// run of characters (also none) and '?' exactly one, ignoring case as
// X-Ray does. An empty pattern matches only empty text.
func GlobMatch(pattern, text string) bool {
	if pattern == "*" {
		return true
	}
	// Greedy matching with one backtrack point (the last '*'): linear in
	// practice, O(len(pattern)·len(text)) at worst, never exponential.
	p, t := 0, 0
	starP, starT := -1, 0
	for t < len(text) {
		if p < len(pattern) {
			pc, pw := utf8.DecodeRuneInString(pattern[p:])
			tc, tw := utf8.DecodeRuneInString(text[t:])
			switch {
			case pc == '*':
				starP, starT = p, t
				p += pw
				continue
			case pc == '?' || equalFold(pc, tc):
				p += pw
				t += tw
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last '*' swallow one more character and retry.
		_, tw := utf8.DecodeRuneInString(text[starT:])
		starT += tw
		p, t = starP+1, starT
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func equalFold(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		return 'A' <= a && a <= 'Z' && a+'a'-'A' == b || 'A' <= b && b <= 'Z' && b+'a'-'A' == a
	}
	return strings.EqualFold(string(a), string(b))
}
