package insights

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/miradorhq/mirador/internal/query"
)

// Compile parses a Logs Insights query and compiles it into a plan over
// records of the given schema.
func Compile(src string, schema query.Schema) (*query.Plan, error) {
	cmds, err := Parse(src)
	if err != nil {
		return nil, err
	}
	return query.Compile(cmds, schema)
}

// Parse parses a query into commands. Errors are *query.SyntaxError.
func Parse(src string) ([]query.Command, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	var cmds []query.Command
	for {
		if p.peek().kind == tEOF {
			if len(cmds) == 0 {
				return nil, p.errorf(p.peek(), "the query is empty: start with a command such as fields, filter or stats")
			}
			return cmds, nil
		}
		cmd, err := p.command()
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, cmd)
		switch t := p.peek(); {
		case t.kind == tEOF:
		case t.kind == tOp && t.text == "|":
			p.next()
			if p.peek().kind == tEOF {
				return nil, p.errorf(p.peek(), "expected a command after \"|\"")
			}
		default:
			return nil, p.errorf(t, "expected \"|\" or the end of the query, found %s", t.describe())
		}
	}
}

type parser struct {
	toks      []token
	i         int
	allowAggs bool // parsing stats' aggregation list
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return &query.SyntaxError{Pos: t.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) isOp(text string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == text
}

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) expectOp(text, context string) error {
	if !p.isOp(text) {
		return p.errorf(p.peek(), "expected %q %s, found %s", text, context, p.peek().describe())
	}
	p.next()
	return nil
}

func (p *parser) command() (query.Command, error) {
	t := p.next()
	if t.kind != tIdent {
		return nil, p.errorf(t, "expected a command (fields, display, filter, stats, sort, limit, parse, dedup), found %s", t.describe())
	}
	switch strings.ToLower(t.text) {
	case "fields":
		items, err := p.projections("fields", false)
		return query.FieldsCmd{Items: items}, err
	case "display":
		names, err := p.names("display")
		return query.DisplayCmd{Names: names}, err
	case "filter":
		e, err := p.expr()
		return query.FilterCmd{Cond: e}, err
	case "stats":
		return p.stats()
	case "sort":
		return p.sort()
	case "limit":
		n := p.next()
		v, err := strconv.Atoi(n.text)
		if n.kind != tNumber || err != nil || v <= 0 {
			return nil, p.errorf(n, "expected a positive number of rows after limit, found %s", n.describe())
		}
		return query.LimitCmd{N: v}, nil
	case "parse":
		return p.parse()
	case "dedup":
		names, err := p.names("dedup")
		return query.DedupCmd{Names: names}, err
	}
	return nil, p.errorf(t, "unknown command %q: use fields, display, filter, stats, sort, limit, parse or dedup", t.text)
}

// projections reads `expr [as name], …`.
func (p *parser) projections(after string, aggregations bool) ([]query.Projection, error) {
	var out []query.Projection
	for {
		start := p.i
		if p.peek().kind == tEOF || p.isOp("|") {
			return nil, p.errorf(p.peek(), "expected a field or expression after %q, found %s", after, p.peek().describe())
		}
		e, err := p.exprAllowing(aggregations)
		if err != nil {
			return nil, err
		}
		name := p.text(start, p.i)
		if ref, ok := e.(*query.FieldRef); ok {
			name = ref.Name
		}
		if p.isKeyword("as") {
			p.next()
			n := p.next()
			if n.kind != tIdent {
				return nil, p.errorf(n, "expected a field name after \"as\", found %s", n.describe())
			}
			name = n.text
		}
		out = append(out, query.Projection{Expr: e, Name: name})
		if !p.isOp(",") {
			return out, nil
		}
		p.next()
		after = ","
	}
}

// text renders tokens [from, to) as the user wrote them, for column names
// such as count(*) and bin(5m).
func (p *parser) text(from, to int) string {
	var b strings.Builder
	for k := from; k < to; k++ {
		t := p.toks[k]
		switch t.kind {
		case tString:
			b.WriteString(strconv.Quote(t.text))
		case tRegex:
			b.WriteString("/" + t.text + "/")
		default:
			if k > from && t.kind == tIdent && p.toks[k-1].kind == tIdent {
				b.WriteByte(' ')
			}
			if t.kind == tOp && t.text == "," {
				b.WriteString(", ")
				continue
			}
			b.WriteString(t.text)
		}
	}
	return b.String()
}

func (p *parser) names(after string) ([]string, error) {
	var out []string
	for {
		t := p.next()
		if t.kind != tIdent {
			return nil, p.errorf(t, "expected a field name after %q, found %s", after, t.describe())
		}
		out = append(out, t.text)
		if !p.isOp(",") {
			return out, nil
		}
		p.next()
		after = ","
	}
}

func (p *parser) stats() (query.Command, error) {
	aggs, err := p.projections("stats", true)
	if err != nil {
		return nil, err
	}
	for _, a := range aggs {
		if c, ok := a.Expr.(*query.Call); !ok || !isAggregation(c.Name) {
			return nil, &query.SyntaxError{Pos: posOf(a.Expr), Msg: "stats needs an aggregation such as count(), sum(x), avg(x) or pct(x, 99)"}
		}
	}
	var by []query.Projection
	if p.isKeyword("by") {
		p.next()
		if by, err = p.projections("by", false); err != nil {
			return nil, err
		}
	}
	return query.StatsCmd{Aggs: aggs, By: by}, nil
}

func posOf(e query.Expr) query.Pos {
	switch e := e.(type) {
	case *query.FieldRef:
		return e.P
	case *query.Call:
		return e.P
	case *query.Literal:
		return e.P
	case *query.Binary:
		return e.P
	}
	return query.Pos{Line: 1, Column: 1}
}

func isAggregation(name string) bool {
	_, ok := query.Aggregations[strings.ToLower(name)]
	return ok
}

func (p *parser) sort() (query.Command, error) {
	var keys []query.SortKey
	for {
		if p.peek().kind == tEOF || p.isOp("|") {
			return nil, p.errorf(p.peek(), "expected a field to sort by, found %s", p.peek().describe())
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		k := query.SortKey{Expr: e, Desc: true} // CloudWatch sorts descending by default
		switch {
		case p.isKeyword("asc"):
			p.next()
			k.Desc = false
		case p.isKeyword("desc"):
			p.next()
		}
		keys = append(keys, k)
		if !p.isOp(",") {
			return query.SortCmd{Keys: keys}, nil
		}
		p.next()
	}
}

func (p *parser) parse() (query.Command, error) {
	ft := p.peek()
	if ft.kind != tIdent {
		return nil, p.errorf(ft, "expected the field to parse (e.g. @message), found %s", ft.describe())
	}
	p.next()
	field := &query.FieldRef{P: ft.pos, Name: ft.text}
	t := p.next()
	switch t.kind {
	case tRegex:
		re, err := compileRegex(t.text)
		if err != nil {
			return nil, p.errorf(t, "invalid regex: %v", err)
		}
		var names []string
		for _, n := range re.SubexpNames()[1:] {
			if n != "" {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			return nil, p.errorf(t, "the regex has no named group: capture fields with (?<name>…)")
		}
		return query.ParseCmd{Field: field, Re: re, Names: names}, nil
	case tString:
		stars := strings.Count(t.text, "*")
		if stars == 0 {
			return nil, p.errorf(t, "the pattern has no *: each * captures one field")
		}
		if !p.isKeyword("as") {
			return nil, p.errorf(p.peek(), "expected \"as\" and %d field names after the pattern, found %s", stars, p.peek().describe())
		}
		p.next()
		at := p.peek()
		names, err := p.names("as")
		if err != nil {
			return nil, err
		}
		if len(names) != stars {
			return nil, p.errorf(at, "the pattern captures %d fields but %d names follow \"as\"", stars, len(names))
		}
		return query.ParseCmd{Field: field, Glob: t.text, Names: names}, nil
	}
	return nil, p.errorf(t, "expected a \"glob * pattern\" or a /regex/ after the field, found %s", t.describe())
}

// compileRegex accepts CloudWatch's (?<name>…) groups, which Go spells
// (?P<name>…).
func compileRegex(src string) (*regexp.Regexp, error) {
	return regexp.Compile(strings.ReplaceAll(src, "(?<", "(?P<"))
}

// Expressions, lowest precedence first: or, and, not, comparison,
// additive, multiplicative, power, unary minus, primary.

func (p *parser) expr() (query.Expr, error) { return p.exprAllowing(false) }

func (p *parser) exprAllowing(aggs bool) (query.Expr, error) {
	saved := p.allowAggs
	p.allowAggs = aggs
	defer func() { p.allowAggs = saved }()
	return p.or()
}

func (p *parser) or() (query.Expr, error) {
	l, err := p.and()
	for err == nil && p.isKeyword("or") {
		t := p.next()
		var r query.Expr
		if r, err = p.and(); err == nil {
			l = &query.Binary{P: t.pos, Op: "or", L: l, R: r}
		}
	}
	return l, err
}

func (p *parser) and() (query.Expr, error) {
	l, err := p.not()
	for err == nil && p.isKeyword("and") {
		t := p.next()
		var r query.Expr
		if r, err = p.not(); err == nil {
			l = &query.Binary{P: t.pos, Op: "and", L: l, R: r}
		}
	}
	return l, err
}

func (p *parser) not() (query.Expr, error) {
	if p.isKeyword("not") {
		t := p.next()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &query.Unary{P: t.pos, Op: "not", X: x}, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (query.Expr, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	negate := false
	if p.isKeyword("not") && (p.toks[p.i+1].kind == tIdent && (strings.EqualFold(p.toks[p.i+1].text, "like") || strings.EqualFold(p.toks[p.i+1].text, "in"))) {
		p.next()
		negate = true
		t = p.peek()
	}
	switch {
	case t.kind == tIdent && strings.EqualFold(t.text, "like"):
		p.next()
		pt := p.next()
		var pat query.Expr
		switch pt.kind {
		case tString:
			pat = &query.Literal{P: pt.pos, Val: strValue(pt.text)}
		case tRegex:
			re, err := compileRegex(pt.text)
			if err != nil {
				return nil, p.errorf(pt, "invalid regex: %v", err)
			}
			pat = &query.RegexLit{P: pt.pos, Re: re, Src: pt.text}
		default:
			return nil, p.errorf(pt, "expected a \"string\" or /regex/ after like, found %s", pt.describe())
		}
		return &query.Like{P: t.pos, X: l, Pattern: pat, Not: negate}, nil
	case t.kind == tIdent && strings.EqualFold(t.text, "in"):
		p.next()
		if err := p.expectOp("[", "after in"); err != nil {
			return nil, err
		}
		var list []query.Expr
		for !p.isOp("]") {
			e, err := p.additive()
			if err != nil {
				return nil, err
			}
			list = append(list, e)
			if p.isOp(",") {
				p.next()
			} else if !p.isOp("]") {
				return nil, p.errorf(p.peek(), "expected \",\" or \"]\" in the list, found %s", p.peek().describe())
			}
		}
		p.next()
		return &query.In{P: t.pos, X: l, List: list, Not: negate}, nil
	case t.kind == tOp && (t.text == "=" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="):
		p.next()
		r, err := p.additive()
		if err != nil {
			return nil, err
		}
		return &query.Binary{P: t.pos, Op: t.text, L: l, R: r}, nil
	case t.kind == tOp && t.text == "=~":
		p.next()
		rt := p.next()
		if rt.kind != tRegex {
			return nil, p.errorf(rt, "expected a /regex/ after =~, found %s", rt.describe())
		}
		re, err := compileRegex(rt.text)
		if err != nil {
			return nil, p.errorf(rt, "invalid regex: %v", err)
		}
		return &query.Binary{P: t.pos, Op: "=~", L: l, R: &query.RegexLit{P: rt.pos, Re: re, Src: rt.text}}, nil
	}
	return l, nil
}

func (p *parser) additive() (query.Expr, error) {
	l, err := p.multiplicative()
	for err == nil && (p.isOp("+") || p.isOp("-")) {
		t := p.next()
		var r query.Expr
		if r, err = p.multiplicative(); err == nil {
			l = &query.Binary{P: t.pos, Op: t.text, L: l, R: r}
		}
	}
	return l, err
}

func (p *parser) multiplicative() (query.Expr, error) {
	l, err := p.power()
	for err == nil && (p.isOp("*") || p.isOp("/") || p.isOp("%")) {
		t := p.next()
		var r query.Expr
		if r, err = p.power(); err == nil {
			l = &query.Binary{P: t.pos, Op: t.text, L: l, R: r}
		}
	}
	return l, err
}

func (p *parser) power() (query.Expr, error) {
	l, err := p.unary()
	if err == nil && p.isOp("^") {
		t := p.next()
		var r query.Expr
		if r, err = p.power(); err == nil {
			l = &query.Binary{P: t.pos, Op: "^", L: l, R: r}
		}
	}
	return l, err
}

func (p *parser) unary() (query.Expr, error) {
	if p.isOp("-") {
		t := p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &query.Unary{P: t.pos, Op: "-", X: x}, nil
	}
	return p.primary()
}

var keywords = map[string]bool{"and": true, "or": true, "not": true, "like": true, "in": true, "as": true, "by": true, "asc": true, "desc": true}

func (p *parser) primary() (query.Expr, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return &query.Literal{P: t.pos, Val: strValue(t.text)}, nil
	case tNumber:
		v, err := numValue(t.text)
		if err != nil {
			return nil, p.errorf(t, "invalid number %q", t.text)
		}
		return &query.Literal{P: t.pos, Val: v}, nil
	case tDuration:
		d, err := parsePeriod(t.text)
		if err != nil {
			return nil, p.errorf(t, "%v", err)
		}
		return &query.DurationLit{P: t.pos, D: d}, nil
	case tRegex:
		return nil, p.errorf(t, "a regex can only follow like or =~")
	case tOp:
		switch t.text {
		case "(":
			e, err := p.or()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")", "to close the parenthesis"); err != nil {
				return nil, err
			}
			return e, nil
		case "*":
			return &query.FieldRef{P: t.pos, Name: "*"}, nil
		}
	case tIdent:
		lower := strings.ToLower(t.text)
		if p.isOp("(") {
			return p.call(t)
		}
		switch lower {
		case "true", "false":
			return &query.Literal{P: t.pos, Val: boolValue(lower == "true")}, nil
		}
		if keywords[lower] {
			return nil, p.errorf(t, "expected a field or value, found the keyword %q", t.text)
		}
		return &query.FieldRef{P: t.pos, Name: t.text}, nil
	}
	return nil, p.errorf(t, "expected a field, value or function, found %s", t.describe())
}

func (p *parser) call(name token) (query.Expr, error) {
	lower := strings.ToLower(name.text)
	arity, isFunc := query.Functions[lower]
	aggArity, isAgg := query.Aggregations[lower]
	switch {
	case isAgg && !p.allowAggs:
		return nil, p.errorf(name, "%s() is an aggregation: use it in stats", name.text)
	case isAgg:
		arity = aggArity
	case !isFunc:
		return nil, p.errorf(name, "unknown function %s", name.text)
	}
	p.next() // (
	var args []query.Expr
	inner := p.allowAggs
	p.allowAggs = false // no aggregation inside an aggregation's arguments
	defer func() { p.allowAggs = inner }()
	for !p.isOp(")") {
		if p.peek().kind == tEOF {
			return nil, p.errorf(p.peek(), "expected \")\" to close %s(", name.text)
		}
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
		if p.isOp(",") {
			p.next()
		} else if !p.isOp(")") {
			return nil, p.errorf(p.peek(), "expected \",\" or \")\" in the arguments of %s, found %s", name.text, p.peek().describe())
		}
	}
	p.next()
	if len(args) < arity[0] || arity[1] >= 0 && len(args) > arity[1] {
		want := fmt.Sprintf("%d", arity[0])
		switch {
		case arity[1] < 0:
			want = fmt.Sprintf("at least %d", arity[0])
		case arity[1] != arity[0]:
			want = fmt.Sprintf("%d to %d", arity[0], arity[1])
		}
		return nil, p.errorf(name, "%s takes %s arguments, got %d", name.text, want, len(args))
	}
	return &query.Call{P: name.pos, Name: name.text, Args: args}, nil
}

func strValue(s string) query.Value { return query.Value{K: query.Str, S: s} }

func boolValue(b bool) query.Value {
	if b {
		return query.Value{K: query.Bool, I: 1}
	}
	return query.Value{K: query.Bool}
}

func numValue(s string) (query.Value, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return query.Value{K: query.Int, I: i}, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	return query.Value{K: query.Float, F: f}, err
}

// parsePeriod reads 5m, 1h, 30s, 100ms, 2d, 1w.
func parsePeriod(s string) (time.Duration, error) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	units := map[string]time.Duration{
		"ms": time.Millisecond, "s": time.Second, "sec": time.Second, "m": time.Minute, "min": time.Minute,
		"h": time.Hour, "hr": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
	}
	u, ok := units[strings.ToLower(s[i:])]
	if err != nil || !ok || n <= 0 {
		return 0, fmt.Errorf("invalid period %q: use a number and a unit, e.g. 30s, 5m, 1h, 1d", s)
	}
	return time.Duration(n * float64(u)), nil
}
