package filterpattern

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// jsonExpr is a JSON pattern's boolean expression.
type jsonExpr interface {
	eval(doc *jsonDoc) bool
}

type andExpr []jsonExpr
type orExpr []jsonExpr

func (a andExpr) eval(d *jsonDoc) bool {
	for _, e := range a {
		if !e.eval(d) {
			return false
		}
	}
	return true
}

func (o orExpr) eval(d *jsonDoc) bool {
	for _, e := range o {
		if e.eval(d) {
			return true
		}
	}
	return false
}

type cmpOp int

const (
	opEq cmpOp = iota
	opNe
	opLt
	opGt
	opLe
	opGe
	opIsNull
	opIsTrue
	opIsFalse
	opNotExists
)

// comparison is `$.path op value`.
type comparison struct {
	path    string // flattened: a.b.0.c
	op      cmpOp
	num     float64 // numeric comparisons
	numeric bool
	glob    string         // string comparisons; '*' wildcards
	re      *regexp.Regexp // %regex% values
	any     bool           // value * : any value present
}

// jsonDoc resolves flattened paths of one event, parsing its message at
// most once.
type jsonDoc struct {
	ev     Event
	parsed bool
	isJSON bool
	fields map[string]eventstore.Value
	nulls  map[string]bool
}

func (d *jsonDoc) lookup(path string) (v eventstore.Value, null, ok bool) {
	if !d.parsed {
		d.parsed = true
		msg := strings.TrimSpace(d.ev.Message)
		if strings.HasPrefix(msg, "{") {
			fields := map[string]eventstore.Value{}
			nulls := map[string]bool{}
			if eventstore.FlattenJSONWithNulls(msg, func(k string, v eventstore.Value, null bool) {
				if null {
					nulls[k] = true
				} else {
					fields[k] = v
				}
			}) == nil {
				d.isJSON, d.fields, d.nulls = true, fields, nulls
			}
		}
	}
	if d.isJSON {
		if d.nulls[path] {
			return eventstore.Value{}, true, true
		}
		v, ok = d.fields[path]
		return v, false, ok
	}
	if d.ev.Fields != nil {
		v, ok = d.ev.Fields(path)
		return v, false, ok
	}
	return eventstore.Value{}, false, false
}

// applies reports whether the event can be matched by a JSON pattern at all.
func (d *jsonDoc) applies() bool {
	d.lookup("")
	return d.isJSON || d.ev.Fields != nil
}

func (c *comparison) eval(d *jsonDoc) bool {
	v, null, ok := d.lookup(c.path)
	switch c.op {
	case opNotExists:
		return !ok
	case opIsNull:
		return ok && null
	case opIsTrue, opIsFalse:
		return ok && !null && v.Kind == eventstore.KindBool && (v.Int != 0) == (c.op == opIsTrue)
	}
	if !ok || null {
		return false
	}
	if c.any {
		return c.op == opEq
	}
	if c.numeric {
		var x float64
		switch v.Kind {
		case eventstore.KindInt:
			x = float64(v.Int)
		case eventstore.KindFloat:
			x = v.Float
		default:
			return false // a numeric comparison against a non-number is false
		}
		switch c.op {
		case opEq:
			return x == c.num
		case opNe:
			return x != c.num
		case opLt:
			return x < c.num
		case opGt:
			return x > c.num
		case opLe:
			return x <= c.num
		case opGe:
			return x >= c.num
		}
		return false
	}
	s := v.String()
	var eq bool
	if c.re != nil {
		eq = c.re.MatchString(s)
	} else {
		eq = globMatch(c.glob, s)
	}
	return eq == (c.op == opEq)
}

// globMatch matches s against a pattern whose only metacharacter is '*'.
func globMatch(glob, s string) bool {
	if !strings.Contains(glob, "*") {
		return glob == s
	}
	parts := strings.Split(glob, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}

// parseJSONPattern reads `{ expr }`.
func (ps *parser) parseJSONPattern() (jsonExpr, error) {
	ps.i++ // {
	e, err := ps.parseOr()
	if err != nil {
		return nil, err
	}
	ps.skipSpace()
	if ps.eof() || ps.s[ps.i] != '}' {
		if ps.eof() {
			return nil, ps.errorf("expected \"}\" to close the JSON pattern, found the end of the pattern")
		}
		return nil, ps.errorf("expected \"&&\", \"||\" or \"}\", found %q", ps.rest(10))
	}
	ps.i++
	return e, nil
}

func (ps *parser) parseOr() (jsonExpr, error) {
	var terms orExpr
	for {
		e, err := ps.parseAnd()
		if err != nil {
			return nil, err
		}
		terms = append(terms, e)
		ps.skipSpace()
		if !ps.peek("||") {
			break
		}
		ps.i += 2
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return terms, nil
}

func (ps *parser) parseAnd() (jsonExpr, error) {
	var terms andExpr
	for {
		e, err := ps.parseUnary()
		if err != nil {
			return nil, err
		}
		terms = append(terms, e)
		ps.skipSpace()
		if !ps.peek("&&") {
			break
		}
		ps.i += 2
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return terms, nil
}

func (ps *parser) parseUnary() (jsonExpr, error) {
	ps.skipSpace()
	if ps.eof() {
		return nil, ps.errorf("expected a condition such as $.field = value, found the end of the pattern")
	}
	if ps.s[ps.i] == '(' {
		ps.i++
		e, err := ps.parseOr()
		if err != nil {
			return nil, err
		}
		ps.skipSpace()
		if ps.eof() || ps.s[ps.i] != ')' {
			return nil, ps.errorf("expected \")\" to close the parenthesis")
		}
		ps.i++
		return e, nil
	}
	return ps.parseComparison()
}

// parseSelector reads $.a.b[0].c into the flattened path a.b.0.c.
func (ps *parser) parseSelector() (string, error) {
	if ps.eof() || ps.s[ps.i] != '$' {
		return "", ps.errorf("expected a selector starting with $. (e.g. $.user.id), found %q", ps.rest(10))
	}
	ps.i++
	var parts []string
	for !ps.eof() {
		switch ps.s[ps.i] {
		case '.':
			ps.i++
			start := ps.i
			for !ps.eof() && isNameByte(ps.s[ps.i]) {
				ps.i++
			}
			if ps.i == start {
				return "", ps.errorf("expected a field name after \".\" (letters, digits, - and _)")
			}
			parts = append(parts, ps.s[start:ps.i])
		case '[':
			ps.i++
			start := ps.i
			for !ps.eof() && ps.s[ps.i] >= '0' && ps.s[ps.i] <= '9' {
				ps.i++
			}
			if ps.i == start || ps.eof() || ps.s[ps.i] != ']' {
				return "", ps.errorf("expected an array index like [0]")
			}
			parts = append(parts, ps.s[start:ps.i])
			ps.i++
		default:
			goto done
		}
	}
done:
	if len(parts) == 0 {
		return "", ps.errorf("expected a field after \"$\" (e.g. $.level)")
	}
	return strings.Join(parts, "."), nil
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '@'
}

func (ps *parser) parseComparison() (jsonExpr, error) {
	path, err := ps.parseSelector()
	if err != nil {
		return nil, err
	}
	c := &comparison{path: path}
	ps.skipSpace()
	for _, kw := range []struct {
		lit string
		op  cmpOp
	}{{"IS NULL", opIsNull}, {"IS TRUE", opIsTrue}, {"IS FALSE", opIsFalse}, {"NOT EXISTS", opNotExists}} {
		if ps.peek(kw.lit) {
			ps.i += len(kw.lit)
			c.op = kw.op
			return c, nil
		}
	}
	if !ps.operator(c) {
		return nil, ps.errorf("expected =, !=, <, >, <=, >=, IS NULL, IS TRUE, IS FALSE or NOT EXISTS after $.%s, found %q", path, ps.rest(10))
	}
	ps.skipSpace()
	if err := ps.parseValue(c); err != nil {
		return nil, err
	}
	return c, nil
}

// comparisonOps are the comparison operators, longest first.
var comparisonOps = []struct {
	lit string
	op  cmpOp
}{{"!=", opNe}, {"<=", opLe}, {">=", opGe}, {"=", opEq}, {"<", opLt}, {">", opGt}}

// operator reads a comparison operator into c.
func (ps *parser) operator(c *comparison) bool {
	for _, o := range comparisonOps {
		if ps.peek(o.lit) {
			c.op, ps.i = o.op, ps.i+len(o.lit)
			return true
		}
	}
	return false
}

// parseValue reads the right-hand side of a comparison.
func (ps *parser) parseValue(c *comparison) error {
	if ps.eof() || ps.peek("&&") || ps.peek("||") || ps.s[ps.i] == '}' || ps.s[ps.i] == ')' || ps.s[ps.i] == ']' || ps.s[ps.i] == ',' {
		found := "the end of the pattern"
		if !ps.eof() {
			found = strconv.Quote(ps.rest(2))
		}
		return ps.errorf("expected a value after the operator, found %s", found)
	}
	numericOp := c.op != opEq && c.op != opNe
	switch ps.s[ps.i] {
	case '"':
		s, err := ps.quoted()
		if err != nil {
			return err
		}
		if numericOp {
			return ps.errorf("%q is a string; <, >, <= and >= compare numbers", s)
		}
		c.glob = s
		return nil
	case '%':
		if numericOp {
			return ps.errorf("a regex can only be compared with = or !=")
		}
		re, err := ps.regex()
		if err != nil {
			return err
		}
		c.re = re
		return nil
	}
	start := ps.i
	for !ps.eof() && !strings.ContainsRune(" \t)}],", rune(ps.s[ps.i])) && !ps.peek("&&") && !ps.peek("||") {
		ps.i++
	}
	lit := ps.s[start:ps.i]
	if lit == "*" {
		if numericOp {
			return ps.errorf("* can only be compared with = (any value)")
		}
		c.any = true
		return nil
	}
	if f, ok := number(lit); ok {
		c.num, c.numeric = f, true
		return nil
	}
	if numericOp {
		ps.i = start
		return ps.errorf("expected a number after the operator, found %q", lit)
	}
	c.glob = lit
	return nil
}
