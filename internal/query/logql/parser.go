package logql

import (
	"fmt"
	"strconv"
)

// Limits of a query, so a hostile query cannot make the parser work hard.
const (
	maxQueryBytes = 64 << 10
	maxDepth      = 100
)

var (
	rangeOps = map[string]bool{
		"count_over_time": true, "rate": true, "bytes_over_time": true, "bytes_rate": true, "absent_over_time": true,
		"rate_counter": true, "sum_over_time": true, "avg_over_time": true, "min_over_time": true, "max_over_time": true,
		"stddev_over_time": true, "stdvar_over_time": true, "quantile_over_time": true, "first_over_time": true, "last_over_time": true,
	}
	// unwrapOps need | unwrap; the others must not have it.
	unwrapOps = map[string]bool{
		"rate_counter": true, "sum_over_time": true, "avg_over_time": true, "min_over_time": true, "max_over_time": true,
		"stddev_over_time": true, "stdvar_over_time": true, "quantile_over_time": true, "first_over_time": true, "last_over_time": true,
	}
	vectorOps = map[string]bool{"sum": true, "avg": true, "min": true, "max": true, "count": true, "stddev": true, "stdvar": true,
		"topk": true, "bottomk": true, "sort": true, "sort_desc": true}
	parserKinds = map[string]bool{"json": true, "logfmt": true, "regexp": true, "pattern": true, "unpack": true}
	// binary operators by precedence, lowest first.
	precedence = [][]string{{"or"}, {"and", "unless"}, {"==", "!=", ">", ">=", "<", "<="}, {"+", "-"}, {"*", "/", "%"}, {"^"}}
)

type parser struct {
	lex   lexer
	tok   token // the current token
	depth int
}

// Parse parses a LogQL query.
func Parse(src string) (Expr, error) {
	if len(src) > maxQueryBytes {
		return nil, &SyntaxError{Pos{1, 1}, fmt.Sprintf("query of %d bytes is longer than %d", len(src), maxQueryBytes)}
	}
	p := &parser{lex: lexer{src: src, line: 1, col: 1}}
	if err := p.next(); err != nil {
		return nil, err
	}
	e, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if p.is("|") && p.peekIs("unwrap") {
		_ = p.next()
		return nil, p.errorf("unwrap is only allowed inside a range aggregation such as sum_over_time({…} | unwrap x [5m])")
	}
	if p.tok.kind != tEOF {
		return nil, p.errorf("unexpected %s after the end of the query", p.describe())
	}
	return e, nil
}

func (p *parser) next() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{p.tok.pos, fmt.Sprintf(format, args...)}
}

func (p *parser) describe() string {
	switch p.tok.kind {
	case tEOF:
		return "end of query"
	case tString:
		return strconv.Quote(p.tok.text)
	}
	return fmt.Sprintf("%q", p.tok.text)
}

func (p *parser) is(op string) bool {
	return (p.tok.kind == tOp || p.tok.kind == tIdent) && p.tok.text == op
}

func (p *parser) expect(op string) error {
	if !p.is(op) {
		return p.errorf("expected %q, found %s", op, p.describe())
	}
	return p.next()
}

func (p *parser) str(what string) (string, error) {
	if p.tok.kind != tString {
		return "", p.errorf("expected %s (a quoted string), found %s", what, p.describe())
	}
	s := p.tok.text
	return s, p.next()
}

func (p *parser) ident(what string) (string, error) {
	if p.tok.kind != tIdent {
		return "", p.errorf("expected %s, found %s", what, p.describe())
	}
	s := p.tok.text
	return s, p.next()
}

// expr parses binary operations at precedence level and above.
func (p *parser) expr(level int) (Expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf("query nests deeper than %d", maxDepth)
	}
	if level == len(precedence) {
		return p.unary()
	}
	l, err := p.expr(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		op := ""
		for _, o := range precedence[level] {
			if p.is(o) {
				op = o
			}
		}
		if op == "" {
			return l, nil
		}
		b := &Binary{Pos: p.tok.pos, Op: op, L: l}
		if err := p.next(); err != nil {
			return nil, err
		}
		if p.is("bool") {
			b.Bool = true
			if err := p.next(); err != nil {
				return nil, err
			}
		}
		if p.is("on") || p.is("ignoring") {
			g := &Grouping{Without: p.is("ignoring")}
			if err := p.next(); err != nil {
				return nil, err
			}
			if g.Labels, err = p.labelList(); err != nil {
				return nil, err
			}
			b.Matching = g
		}
		next := level + 1
		if op == "^" {
			next = level // right-associative
		}
		if b.R, err = p.expr(next); err != nil {
			return nil, err
		}
		if _, ok := b.L.(*LogQuery); ok {
			return nil, &SyntaxError{b.Pos, "a log query cannot be an operand: aggregate it first, e.g. count_over_time({…}[5m])"}
		}
		if _, ok := b.R.(*LogQuery); ok {
			return nil, &SyntaxError{b.Pos, "a log query cannot be an operand: aggregate it first, e.g. count_over_time({…}[5m])"}
		}
		l = b
	}
}

func (p *parser) unary() (Expr, error) {
	pos := p.tok.pos
	switch {
	case p.is("-") || p.is("+"):
		neg := p.is("-")
		if err := p.next(); err != nil {
			return nil, err
		}
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		if n, ok := e.(*Number); ok {
			if neg {
				n.Val = -n.Val
			}
			return n, nil
		}
		if neg {
			return &Binary{Pos: pos, Op: "*", L: &Number{Pos: pos, Val: -1}, R: e}, nil
		}
		return e, nil
	case p.tok.kind == tNumber:
		v, _ := strconv.ParseFloat(p.tok.text, 64)
		return &Number{Pos: pos, Val: v}, p.next()
	case p.is("("):
		if err := p.next(); err != nil {
			return nil, err
		}
		e, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		return e, p.expect(")")
	case p.is("{"):
		return p.logQuery()
	case p.tok.kind == tIdent && rangeOps[p.tok.text]:
		return p.rangeAgg()
	case p.tok.kind == tIdent && vectorOps[p.tok.text]:
		return p.vectorAgg()
	}
	return nil, p.errorf("expected a stream selector {…}, a number, a range aggregation such as count_over_time or an aggregation such as sum, found %s", p.describe())
}

func (p *parser) logQuery() (*LogQuery, error) {
	q := &LogQuery{Pos: p.tok.pos}
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	for !p.is("}") {
		if len(q.Matchers) > 0 {
			if err := p.expect(","); err != nil {
				return nil, p.errorf("expected \",\" or \"}\" in the stream selector, found %s", p.describe())
			}
		}
		m, err := p.matcher(true)
		if err != nil {
			return nil, err
		}
		q.Matchers = append(q.Matchers, m)
	}
	if len(q.Matchers) == 0 {
		return nil, p.errorf("a stream selector needs at least one matcher, e.g. {service_name=\"api\"}")
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	for {
		st, ok, err := p.stage()
		if err != nil {
			return nil, err
		}
		if !ok {
			return q, nil
		}
		q.Pipeline = append(q.Pipeline, st)
	}
}

// matcher reads name op "value"; selector matchers need a value.
func (p *parser) matcher(selector bool) (Matcher, error) {
	name, err := p.ident("a label name")
	if err != nil {
		return Matcher{}, err
	}
	m := Matcher{Name: name}
	switch {
	case p.is("=") || p.is("!=") || p.is("=~") || p.is("!~"):
		m.Op = p.tok.text
	case !selector:
		return m, nil
	default:
		return m, p.errorf("expected =, !=, =~ or !~ after %q, found %s", name, p.describe())
	}
	if err := p.next(); err != nil {
		return m, err
	}
	m.Value, err = p.str("the value of " + name)
	return m, err
}

// stage reads one pipeline stage; ok is false at the end of the pipeline.
func (p *parser) stage() (Stage, bool, error) {
	if op := p.tok.text; p.tok.kind == tOp && (op == "|=" || op == "!=" || op == "|~" || op == "!~" || op == "|>" || op == "!>") {
		f := &LineFilter{Op: op}
		if err := p.next(); err != nil {
			return nil, false, err
		}
		for {
			v, err := p.str("the line filter's text")
			if err != nil {
				return nil, false, err
			}
			f.Values = append(f.Values, v)
			if !p.is("or") {
				return f, true, nil
			}
			if err := p.next(); err != nil {
				return nil, false, err
			}
		}
	}
	if !p.is("|") || p.peekIs("unwrap") { // | unwrap belongs to the range aggregation around
		return nil, false, nil
	}
	if err := p.next(); err != nil {
		return nil, false, err
	}
	if p.is("(") {
		f, err := p.labelFilterOr()
		return f, true, err
	}
	if p.tok.kind != tIdent {
		return nil, false, p.errorf("expected a pipeline stage (json, logfmt, regexp, pattern, unpack, line_format, label_format, drop, keep or a label filter) after |, found %s", p.describe())
	}
	word := p.tok.text
	switch {
	case parserKinds[word] && !p.peekIsComparison():
		st, err := p.parserStage(word)
		return st, true, err
	case word == "line_format":
		if err := p.next(); err != nil {
			return nil, false, err
		}
		t, err := p.str("the line_format template")
		return &LineFormat{Template: t}, true, err
	case word == "label_format":
		st, err := p.labelFormat()
		return st, true, err
	case word == "drop" || word == "keep":
		st, err := p.dropKeep(word)
		return st, true, err
	case word == "decolorize":
		return &Decolorize{}, true, p.next()
	}
	f, err := p.labelFilterOr()
	return f, true, err
}

// peekIs reports whether the token after the current one is word.
func (p *parser) peekIs(word string) bool {
	save, tok := p.lex, p.tok
	defer func() { p.lex, p.tok = save, tok }()
	return p.next() == nil && p.tok.text == word
}

// peekIsComparison reports whether the identifier under the cursor is a
// label compared with something (| json = "x" is a filter on label json).
func (p *parser) peekIsComparison() bool {
	save, tok := p.lex, p.tok
	defer func() { p.lex, p.tok = save, tok }()
	if p.next() != nil {
		return false
	}
	switch p.tok.text {
	case "=", "!=", "=~", "!~", "==", ">", ">=", "<", "<=":
		return p.tok.kind == tOp
	}
	return false
}

func (p *parser) parserStage(kind string) (Stage, error) {
	st := &Parser{Kind: kind}
	if err := p.next(); err != nil {
		return nil, err
	}
	switch kind {
	case "regexp", "pattern":
		var err error
		st.Param, err = p.str("the " + kind + " expression")
		return st, err
	case "json", "logfmt":
		for kind == "logfmt" && p.is("-") { // --strict, --keep-empty
			if err := p.next(); err != nil {
				return nil, err
			}
			if err := p.expect("-"); err != nil {
				return nil, err
			}
			flag, err := p.ident("a logfmt flag (--strict or --keep-empty)")
			if err != nil {
				return nil, err
			}
			if flag != "strict" && flag != "keep_empty" && flag != "keep" {
				return nil, p.errorf("unknown logfmt flag --%s: want --strict or --keep-empty", flag)
			}
			if flag == "keep" { // keep-empty lexes as keep - empty
				if err := p.expect("-"); err != nil {
					return nil, err
				}
				if _, err := p.ident("empty"); err != nil {
					return nil, err
				}
				flag = "keep-empty"
			}
			st.Flags = append(st.Flags, "--"+flag)
		}
		for p.tok.kind == tIdent && !p.is("or") && !p.is("and") {
			if !p.peekIsAssign() {
				break
			}
			if st.Fields == nil {
				st.Fields = map[string]string{}
			}
			name, _ := p.ident("a label name")
			if err := p.expect("="); err != nil {
				return nil, err
			}
			path, err := p.str("the field to extract")
			if err != nil {
				return nil, err
			}
			st.Fields[name] = path
			if !p.is(",") {
				break
			}
			if err := p.next(); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

func (p *parser) peekIsAssign() bool {
	save, tok := p.lex, p.tok
	defer func() { p.lex, p.tok = save, tok }()
	if p.next() != nil {
		return false
	}
	return p.tok.kind == tOp && p.tok.text == "="
}

func (p *parser) labelFormat() (Stage, error) {
	st := &LabelFormat{Renames: map[string]string{}, Templates: map[string]string{}}
	if err := p.next(); err != nil {
		return nil, err
	}
	for {
		name, err := p.ident("a label name")
		if err != nil {
			return nil, err
		}
		if err := p.expect("="); err != nil {
			return nil, err
		}
		switch p.tok.kind {
		case tIdent:
			st.Renames[name] = p.tok.text
		case tString:
			st.Templates[name] = p.tok.text
		default:
			return nil, p.errorf("expected a label to rename or a quoted template after %s=, found %s", name, p.describe())
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		if !p.is(",") {
			return st, nil
		}
		if err := p.next(); err != nil {
			return nil, err
		}
	}
}

func (p *parser) dropKeep(word string) (Stage, error) {
	if err := p.next(); err != nil {
		return nil, err
	}
	var ms []Matcher
	for {
		m, err := p.matcher(false)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
		if !p.is(",") {
			break
		}
		if err := p.next(); err != nil {
			return nil, err
		}
	}
	if word == "drop" {
		return &Drop{Labels: ms}, nil
	}
	return &Keep{Labels: ms}, nil
}

// labelFilterOr reads label filters joined by or; and and "," bind
// tighter, and parentheses group.
func (p *parser) labelFilterOr() (*LabelFilter, error) {
	l, err := p.labelFilterAnd()
	if err != nil {
		return nil, err
	}
	for p.is("or") {
		if err := p.next(); err != nil {
			return nil, err
		}
		r, err := p.labelFilterAnd()
		if err != nil {
			return nil, err
		}
		l = &LabelFilter{Or: true, L: l, R: r}
	}
	return l, nil
}

func (p *parser) labelFilterAnd() (*LabelFilter, error) {
	l, err := p.labelFilterAtom()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.is("and") || p.is(","):
			if err := p.next(); err != nil {
				return nil, err
			}
		case p.tok.kind == tIdent && !p.is("or") && p.peekIsComparison(): // juxtaposed: an implicit and
		default:
			return l, nil
		}
		r, err := p.labelFilterAtom()
		if err != nil {
			return nil, err
		}
		l = &LabelFilter{And: true, L: l, R: r}
	}
}

func (p *parser) labelFilterAtom() (*LabelFilter, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf("label filter nests deeper than %d", maxDepth)
	}
	if p.is("(") {
		if err := p.next(); err != nil {
			return nil, err
		}
		f, err := p.labelFilterOr()
		if err != nil {
			return nil, err
		}
		return f, p.expect(")")
	}
	name, err := p.ident("a label filter such as level = \"error\" or status >= 500")
	if err != nil {
		return nil, err
	}
	f := &LabelFilter{Name: name}
	switch t := p.tok.text; {
	case p.tok.kind == tOp && (t == "=" || t == "!=" || t == "=~" || t == "!~" || t == "==" || t == ">" || t == ">=" || t == "<" || t == "<="):
		f.Op = t
	default:
		return nil, p.errorf("expected a comparison (=, !=, =~, !~, ==, >, >=, <, <=) after %q, found %s", name, p.describe())
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	v := Value{Text: p.tok.text, IsSet: true}
	switch p.tok.kind {
	case tString:
		v.Kind, v.Str = "string", p.tok.text
	case tNumber:
		v.Kind = "number"
		v.Num, _ = strconv.ParseFloat(p.tok.text, 64)
	case tDuration:
		d, _ := ParseDuration(p.tok.text)
		v.Kind, v.Num = "duration", d.Seconds()
	case tBytes:
		v.Kind = "bytes"
		v.Num, _ = ParseBytes(p.tok.text)
	default:
		if p.is("-") { // a negative number
			if err := p.next(); err != nil {
				return nil, err
			}
			if p.tok.kind != tNumber {
				return nil, p.errorf("expected a number after -, found %s", p.describe())
			}
			n, _ := strconv.ParseFloat(p.tok.text, 64)
			v = Value{Kind: "number", Num: -n, Text: "-" + p.tok.text, IsSet: true}
			break
		}
		return nil, p.errorf("expected a string, number, duration or byte size to compare %q with, found %s", name, p.describe())
	}
	if (f.Op == "=~" || f.Op == "!~") && v.Kind != "string" {
		return nil, p.errorf("%s needs a quoted regular expression", f.Op)
	}
	if v.Kind == "string" && f.Op != "=" && f.Op != "!=" && f.Op != "=~" && f.Op != "!~" {
		return nil, p.errorf("%s compares numbers, durations or byte sizes, not the string %q", f.Op, v.Str)
	}
	f.Value = v
	return f, p.next()
}

func (p *parser) labelList() ([]string, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var out []string
	for !p.is(")") {
		if len(out) > 0 {
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		l, err := p.ident("a label name")
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, p.next()
}

func (p *parser) grouping() (*Grouping, error) {
	if !p.is("by") && !p.is("without") {
		return nil, nil
	}
	g := &Grouping{Without: p.is("without")}
	if err := p.next(); err != nil {
		return nil, err
	}
	var err error
	g.Labels, err = p.labelList()
	return g, err
}

func (p *parser) rangeAgg() (Expr, error) {
	r := &RangeAgg{Pos: p.tok.pos, Op: p.tok.text}
	if err := p.next(); err != nil {
		return nil, err
	}
	if err := p.expect("("); err != nil {
		return nil, err
	}
	if r.Op == "quantile_over_time" {
		if p.tok.kind != tNumber {
			return nil, p.errorf("quantile_over_time needs a quantile first, e.g. quantile_over_time(0.99, {…} | unwrap latency [5m])")
		}
		r.Param, _ = strconv.ParseFloat(p.tok.text, 64)
		if err := p.next(); err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
	}
	if !p.is("{") {
		return nil, p.errorf("%s needs a log query with a range, e.g. %s({service_name=\"api\"}[5m]), found %s", r.Op, r.Op, p.describe())
	}
	q, err := p.logQuery()
	if err != nil {
		return nil, err
	}
	r.Query = q
	if p.is("|") {
		if r.Unwrap, err = p.unwrap(); err != nil {
			return nil, err
		}
	}
	if err := p.expect("["); err != nil {
		return nil, p.errorf("expected a range such as [5m] after the log query, found %s", p.describe())
	}
	if p.tok.kind != tDuration {
		return nil, p.errorf("expected a duration such as 5m in the range, found %s", p.describe())
	}
	r.Range, _ = ParseDuration(p.tok.text)
	if r.Range <= 0 {
		return nil, p.errorf("the range must be positive")
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	if err := p.expect("]"); err != nil {
		return nil, err
	}
	if p.is("offset") {
		if err := p.next(); err != nil {
			return nil, err
		}
		if p.tok.kind != tDuration {
			return nil, p.errorf("expected a duration after offset, found %s", p.describe())
		}
		r.Offset, _ = ParseDuration(p.tok.text)
		if err := p.next(); err != nil {
			return nil, err
		}
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	switch {
	case unwrapOps[r.Op] && r.Unwrap == nil:
		return nil, &SyntaxError{r.Pos, fmt.Sprintf("%s needs | unwrap <label> before the range", r.Op)}
	case !unwrapOps[r.Op] && r.Unwrap != nil:
		return nil, &SyntaxError{r.Pos, fmt.Sprintf("%s counts lines and takes no | unwrap; use sum_over_time, avg_over_time, …", r.Op)}
	}
	g, err := p.grouping()
	if err != nil {
		return nil, err
	}
	r.By = g
	return r, nil
}

func (p *parser) unwrap() (*Unwrap, error) {
	if err := p.next(); err != nil {
		return nil, err
	}
	if !p.is("unwrap") {
		return nil, p.errorf("expected | unwrap <label> or the range, found %s", p.describe())
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	u := &Unwrap{}
	name, err := p.ident("the label to unwrap")
	if err != nil {
		return nil, err
	}
	if (name == "duration" || name == "duration_seconds" || name == "bytes") && p.is("(") {
		u.Conv = name
		if err := p.next(); err != nil {
			return nil, err
		}
		if name, err = p.ident("the label to convert"); err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
	}
	u.Label = name
	for p.is("|") { // label filters after unwrap, e.g. | __error__=""
		if err := p.next(); err != nil {
			return nil, err
		}
		f, err := p.labelFilterOr()
		if err != nil {
			return nil, err
		}
		u.Post = append(u.Post, f)
	}
	return u, nil
}

func (p *parser) vectorAgg() (Expr, error) {
	v := &VectorAgg{Pos: p.tok.pos, Op: p.tok.text}
	if err := p.next(); err != nil {
		return nil, err
	}
	g, err := p.grouping()
	if err != nil {
		return nil, err
	}
	v.By = g
	if err := p.expect("("); err != nil {
		return nil, p.errorf("expected ( after %s, found %s", v.Op, p.describe())
	}
	if v.Op == "topk" || v.Op == "bottomk" {
		if p.tok.kind != tNumber {
			return nil, p.errorf("%s needs a count first, e.g. %s(5, …)", v.Op, v.Op)
		}
		v.Param, _ = strconv.ParseFloat(p.tok.text, 64)
		if v.Param < 1 || v.Param != float64(int(v.Param)) {
			return nil, p.errorf("%s's count must be a positive integer", v.Op)
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
	}
	if v.Expr, err = p.expr(0); err != nil {
		return nil, err
	}
	if _, ok := v.Expr.(*LogQuery); ok {
		return nil, &SyntaxError{v.Pos, fmt.Sprintf("%s aggregates metrics, not log lines: wrap the log query in a range aggregation, e.g. %s(count_over_time({…}[5m]))", v.Op, v.Op)}
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	if v.By == nil {
		if v.By, err = p.grouping(); err != nil {
			return nil, err
		}
	}
	return v, nil
}
