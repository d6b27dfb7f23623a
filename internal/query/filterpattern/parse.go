package filterpattern

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// SyntaxError is a malformed pattern: where, and what was expected.
type SyntaxError struct {
	Offset int // 0-based byte offset in the pattern
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filter pattern: column %d: %s", e.Offset+1, e.Msg)
}

// maxRegexes is CloudWatch's limit of regexes in one pattern.
const maxRegexes = 2

type kind int

const (
	kindAll kind = iota
	kindTerms
	kindJSON
	kindDelimited
)

// Pattern is a compiled filter pattern. It is immutable and safe for
// concurrent use.
type Pattern struct {
	src  string
	kind kind

	// Unstructured: every must, at least one of any (if any), none of not.
	must, any, not []matcher

	json jsonExpr

	fields   []field // space-delimited slots
	ellipsis int     // index of "..." in fields, or -1
}

// matcher is one unstructured term: a substring or a regex.
type matcher struct {
	lit string
	re  *regexp.Regexp
}

func (m matcher) match(s string) bool {
	if m.re != nil {
		return m.re.MatchString(s)
	}
	return strings.Contains(s, m.lit)
}

// Parse compiles a pattern. The empty pattern (or only spaces) matches
// every event.
func Parse(pattern string) (*Pattern, error) {
	p := &Pattern{src: pattern, ellipsis: -1}
	ps := &parser{s: pattern}
	ps.skipSpace()
	if ps.eof() {
		return p, nil
	}
	var err error
	switch ps.s[ps.i] {
	case '{':
		p.kind = kindJSON
		p.json, err = ps.parseJSONPattern()
	case '[':
		p.kind = kindDelimited
		err = ps.parseDelimited(p)
	default:
		p.kind = kindTerms
		err = ps.parseTerms(p)
	}
	if err != nil {
		return nil, err
	}
	ps.skipSpace()
	if !ps.eof() {
		return nil, ps.errorf("expected the end of the pattern, found %q", ps.rest(10))
	}
	return p, nil
}

type parser struct {
	s       string
	i       int
	regexes int
}

func (ps *parser) eof() bool { return ps.i >= len(ps.s) }

func (ps *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: ps.i, Msg: fmt.Sprintf(format, args...)}
}

func (ps *parser) rest(n int) string {
	r := ps.s[ps.i:]
	if len(r) > n {
		r = r[:n] + "…"
	}
	return r
}

func (ps *parser) skipSpace() {
	for ps.i < len(ps.s) && (ps.s[ps.i] == ' ' || ps.s[ps.i] == '\t' || ps.s[ps.i] == '\n' || ps.s[ps.i] == '\r') {
		ps.i++
	}
}

func (ps *parser) peek(lit string) bool { return strings.HasPrefix(ps.s[ps.i:], lit) }

// quoted reads a double-quoted string at ps.i; \" and \\ are escapes.
func (ps *parser) quoted() (string, error) {
	start := ps.i
	ps.i++
	var b strings.Builder
	for ps.i < len(ps.s) {
		c := ps.s[ps.i]
		switch {
		case c == '\\' && ps.i+1 < len(ps.s):
			b.WriteByte(ps.s[ps.i+1])
			ps.i += 2
		case c == '"':
			ps.i++
			return b.String(), nil
		default:
			b.WriteByte(c)
			ps.i++
		}
	}
	ps.i = start
	return "", ps.errorf("unterminated quoted string: add the closing \"")
}

// regex reads %...% at ps.i and compiles it.
func (ps *parser) regex() (*regexp.Regexp, error) {
	start := ps.i
	end := strings.IndexByte(ps.s[ps.i+1:], '%')
	if end < 0 {
		return nil, ps.errorf("unterminated regex: end it with %%")
	}
	body := ps.s[ps.i+1 : ps.i+1+end]
	if body == "" {
		return nil, ps.errorf("empty regex %%%%")
	}
	for j, r := range body {
		if r >= utf8.RuneSelf {
			ps.i = start + 1 + j
			return nil, ps.errorf("regexes may not contain multi-byte characters such as %q", r)
		}
		c := byte(r)
		if c == '(' || c == ')' {
			ps.i = start + 1 + j
			return nil, ps.errorf("regexes may not contain parentheses: CloudWatch has no groups; use [] or | instead")
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(":_#=@/;,- ^$?[]{}|\\*+.", c) >= 0) {
			ps.i = start + 1 + j
			return nil, ps.errorf("character %q is not allowed in a regex (allowed: letters, digits, : _ # = @ / ; , - and the operators ^ $ ? [ ] { } | \\ * + .)", c)
		}
	}
	ps.regexes++
	if ps.regexes > maxRegexes {
		return nil, ps.errorf("a filter pattern may hold at most %d regexes", maxRegexes)
	}
	re, err := regexp.Compile(body)
	if err != nil {
		return nil, ps.errorf("invalid regex %%%s%%: %v", body, err)
	}
	ps.i += end + 2
	return re, nil
}

// parseTerms reads unstructured terms up to the end.
func (ps *parser) parseTerms(p *Pattern) error {
	for ps.skipSpace(); !ps.eof(); ps.skipSpace() {
		prefix := byte(0)
		if c := ps.s[ps.i]; c == '?' || c == '-' {
			prefix = c
			ps.i++
			if ps.eof() || ps.s[ps.i] == ' ' {
				return ps.errorf("expected a term after %q", prefix)
			}
		}
		var m matcher
		switch ps.s[ps.i] {
		case '"':
			lit, err := ps.quoted()
			if err != nil {
				return err
			}
			m.lit = lit
		case '%':
			re, err := ps.regex()
			if err != nil {
				return err
			}
			m.re = re
		case '{', '[':
			return ps.errorf("%q starts a JSON or space-delimited pattern only at the beginning; quote it to search for it", ps.s[ps.i])
		default:
			start := ps.i
			for !ps.eof() && ps.s[ps.i] != ' ' && ps.s[ps.i] != '\t' {
				ps.i++
			}
			m.lit = ps.s[start:ps.i]
		}
		switch prefix {
		case '?':
			p.any = append(p.any, m)
		case '-':
			p.not = append(p.not, m)
		default:
			p.must = append(p.must, m)
		}
	}
	return nil
}

// number parses a numeric literal with sign and exponent.
func number(s string) (float64, bool) {
	if s == "" || strings.ContainsAny(s, "_xXnN") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// String returns the pattern as written.
func (p *Pattern) String() string { return p.src }

// IsJSON reports whether the pattern is a JSON pattern, which may look at
// Event.Fields.
func (p *Pattern) IsJSON() bool { return p.kind == kindJSON }

// FieldNames returns the names of a space-delimited pattern's fields, in
// order (metric filters check "$name" references against them), or nil
// for other patterns.
func (p *Pattern) FieldNames() []string {
	if p.kind != kindDelimited {
		return nil
	}
	out := make([]string, 0, len(p.fields))
	for _, f := range p.fields {
		if f.name != "" { // "..."
			out = append(out, f.name)
		}
	}
	return out
}

// IsDelimited reports whether the pattern is a space-delimited pattern.
func (p *Pattern) IsDelimited() bool { return p.kind == kindDelimited }

// Needles returns whole tokens every matching message contains, for bloom
// pruning: the interior tokens of the required terms.
func (p *Pattern) Needles() []string {
	var out []string
	for _, m := range p.must {
		if m.re == nil {
			out = append(out, eventstore.InteriorTokens(m.lit)...)
		}
	}
	return out
}
