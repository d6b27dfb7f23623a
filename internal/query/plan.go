package query

import (
	"regexp"
	"strings"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// DefaultLimit is how many rows a query without limit returns, as in
// CloudWatch Logs Insights.
const DefaultLimit = 10_000

// Plan is a compiled query: scan hints and the stages that run on what the
// scan visits. It is immutable and may be run concurrently.
type Plan struct {
	Columns    eventstore.Column
	Needles    []string
	AttrEquals []eventstore.Attr
	// Group is set when every result must come from this group (a
	// top-level filter @log = "g", or service = "s" over spans).
	Group string

	pre    []rowStage  // per record, inside the visitors
	stats  *statsStage // nil: rows are collected
	post   []postStage // on the merged rows
	fields []string    // output fields

	// Row collection without stats: the best topN rows by order.
	order     []sortFn
	topN      int
	userLimit bool // topN came from the query's limit

	keepRecords bool // predicate plans return the records too
	schema      Schema
}

// rowStage transforms a row in place; false drops it.
type rowStage func(*Row) bool

// postStage transforms the merged rows.
type postStage func([]*Row) []*Row

type sortFn struct {
	eval evalFn
	desc bool
}

func (p *Plan) less(a, b []Value) bool {
	for i, o := range p.order {
		c := compare(a[i], b[i])
		if c == 0 {
			continue
		}
		if o.desc {
			return c > 0
		}
		return c < 0
	}
	return false
}

// Compile builds a plan from a pipeline of commands over records of the
// given schema.
func Compile(cmds []Command, schema Schema) (*Plan, error) {
	p := &Plan{schema: schema}
	c := &compiler{schema: schema}
	// Row-local commands up to the first that needs all rows.
	i := 0
	out := &outputFields{names: schema.defaultFields(), implicit: true}
	for ; i < len(cmds); i++ {
		var st rowStage
		var err error
		switch cmd := cmds[i].(type) {
		case FilterCmd:
			st, err = c.filterStage(cmd)
		case FieldsCmd:
			st, err = c.fieldsStage(cmd)
			out.fields(cmd)
		case ParseCmd:
			st, err = c.parseStage(cmd)
			out.parsed(cmd)
		default:
			goto collected
		}
		if err != nil {
			return nil, err
		}
		p.pre = append(p.pre, st)
	}
collected:
	rest := cmds[i:]
	if len(rest) > 0 {
		if s, ok := rest[0].(StatsCmd); ok {
			st, err := c.statsStage(s)
			if err != nil {
				return nil, err
			}
			p.stats = st
			out.names, out.implicit = st.fieldNames(), false
			rest = rest[1:]
		}
	}
	if p.stats == nil {
		if err := c.collection(p, rest); err != nil {
			return nil, err
		}
	}
	for _, cmd := range rest {
		st, err := c.postStage(cmd, out)
		if err != nil {
			return nil, err
		}
		if st != nil {
			p.post = append(p.post, st)
		}
	}
	if p.stats == nil {
		for _, f := range out.names {
			c.cols |= c.schema.columnsOf(f)
		}
	}
	p.fields = out.names
	p.Columns = c.cols | eventstore.ColTime
	p.Needles, p.AttrEquals, p.Group = hints(cmds, schema)
	return p, nil
}

// outputFields tracks the result's columns through the pipeline: the
// defaults until a fields command names some, parse adding its fields to
// the defaults, stats replacing them, display having the last word.
type outputFields struct {
	names    []string
	implicit bool // still the defaults
}

func (o *outputFields) fields(cmd FieldsCmd) {
	if o.implicit {
		o.names, o.implicit = nil, false
	}
	for _, it := range cmd.Items {
		o.names = appendUnique(o.names, it.Name)
	}
}

func (o *outputFields) parsed(cmd ParseCmd) {
	if o.implicit {
		for _, n := range cmd.Names {
			o.names = appendUnique(o.names, n)
		}
	}
}

func appendUnique(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

// collection chooses how visitors keep rows: by the first sort (and the
// limit after it), else newest first.
func (c *compiler) collection(p *Plan, rest []Command) error {
	keys := []SortKey{{Expr: &FieldRef{Name: "@timestamp"}, Desc: true}}
	limitAt := 0
	if len(rest) > 0 {
		if s, ok := rest[0].(SortCmd); ok {
			keys, limitAt = s.Keys, 1
		}
	}
	p.topN = DefaultLimit
	if len(rest) > limitAt {
		if l, ok := rest[limitAt].(LimitCmd); ok {
			p.topN, p.userLimit = l.N, true
		}
	}
	for _, k := range keys {
		f, err := c.expr(k.Expr)
		if err != nil {
			return err
		}
		p.order = append(p.order, sortFn{f, k.Desc})
	}
	return nil
}

func (c *compiler) filterStage(cmd FilterCmd) (rowStage, error) {
	cond, err := c.expr(cmd.Cond)
	if err != nil {
		return nil, err
	}
	return func(r *Row) bool { return cond(r).truthy() }, nil
}

func (c *compiler) fieldsStage(cmd FieldsCmd) (rowStage, error) {
	evals := make([]evalFn, len(cmd.Items))
	for i, it := range cmd.Items {
		var err error
		if evals[i], err = c.expr(it.Expr); err != nil {
			return nil, err
		}
	}
	return func(r *Row) bool {
		for i, it := range cmd.Items {
			if ref, ok := it.Expr.(*FieldRef); ok && ref.Name == it.Name {
				continue // a plain field needs no copy
			}
			r.set(it.Name, evals[i](r))
		}
		return true
	}, nil
}

func (c *compiler) parseStage(cmd ParseCmd) (rowStage, error) {
	src, err := c.expr(cmd.Field)
	if err != nil {
		return nil, err
	}
	re := cmd.Re
	if re == nil {
		if re, err = globRegexp(cmd.Glob); err != nil {
			return nil, errAt(cmd.Field.pos(), "invalid parse pattern: %v", err)
		}
	}
	groups := re.SubexpNames()
	return func(r *Row) bool {
		m := re.FindStringSubmatch(src(r).String())
		if m == nil {
			return true // no match: the fields stay absent
		}
		n := 0
		for gi, name := range groups {
			if gi == 0 {
				continue
			}
			if cmd.Re == nil {
				if n < len(cmd.Names) {
					r.set(cmd.Names[n], strV(m[gi]))
				}
				n++
			} else if name != "" {
				r.set(name, strV(m[gi]))
			}
		}
		return true
	}, nil
}

// globRegexp turns a parse glob into a regexp: each * captures as little
// as it can, except a final one, which takes the rest of the text.
func globRegexp(glob string) (*regexp.Regexp, error) {
	parts := strings.Split(glob, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	src := strings.Join(parts, "(.*?)")
	if strings.HasSuffix(glob, "*") {
		src = strings.TrimSuffix(src, "(.*?)") + "(.*)"
	}
	return regexp.Compile("(?s)" + src)
}

// hints derives pruning hints that can never drop a record the query
// returns: only from filters that apply to every record (top-level AND
// chains of the row-local filters).
func hints(cmds []Command, schema Schema) (needles []string, attrs []eventstore.Attr, group string) {
	for _, cmd := range cmds {
		f, ok := cmd.(FilterCmd)
		if !ok {
			if _, isFields := cmd.(FieldsCmd); isFields {
				continue
			}
			if _, isParse := cmd.(ParseCmd); isParse {
				continue
			}
			break
		}
		var walk func(Expr)
		walk = func(e Expr) {
			switch e := e.(type) {
			case *Binary:
				switch e.Op {
				case "and":
					walk(e.L)
					walk(e.R)
				case "=":
					ref, ok1 := e.L.(*FieldRef)
					lit, ok2 := e.R.(*Literal)
					if !ok1 || !ok2 || shadowed(cmds, ref.Name) {
						return
					}
					if schema.columnsOf(ref.Name) == eventstore.ColGroup {
						if lit.Val.K == Str && group == "" {
							group = lit.Val.S
						}
						return
					}
					if schema.systemField(ref.Name) != nil {
						return
					}
					// Only non-numeric strings: equality coerces numbers ("200"
					// equals 200.0), which the bloom's text keys cannot.
					if _, isNum := lit.Val.num(); lit.Val.K == Str && !isNum {
						key := ref.Name
						if strings.HasPrefix(key, "@@") {
							key = key[1:]
						}
						attrs = append(attrs, eventstore.Attr{Key: key, Value: eventstore.StringValue(lit.Val.S)})
					}
				case "=~":
					if ref, ok := e.L.(*FieldRef); ok && ref.Name == "@message" && !shadowed(cmds, ref.Name) {
						if re, ok := e.R.(*RegexLit); ok {
							needles = append(needles, regexTokens(re.Src)...)
						}
					}
				}
			case *Like:
				ref, ok := e.X.(*FieldRef)
				if e.Not || !ok || ref.Name != "@message" || shadowed(cmds, ref.Name) {
					return
				}
				switch pat := e.Pattern.(type) {
				case *Literal:
					if pat.Val.K == Str {
						needles = append(needles, eventstore.InteriorTokens(pat.Val.S)...)
					}
				case *RegexLit:
					needles = append(needles, regexTokens(pat.Src)...)
				}
			}
		}
		walk(f.Cond)
	}
	return needles, attrs, group
}

// shadowed reports whether a fields or parse command redefines name.
func shadowed(cmds []Command, name string) bool {
	for _, cmd := range cmds {
		switch cmd := cmd.(type) {
		case FieldsCmd:
			for _, it := range cmd.Items {
				if ref, ok := it.Expr.(*FieldRef); it.Name == name && !(ok && ref.Name == name) {
					return true
				}
			}
		case ParseCmd:
			for _, n := range cmd.Names {
				if n == name {
					return true
				}
			}
			if cmd.Re != nil {
				for _, n := range cmd.Re.SubexpNames() {
					if n == name {
						return true
					}
				}
			}
		}
	}
	return false
}

// regexTokens finds words a regex requires whole: literals written as
// \bword\b with no alternation or character class around them.
func regexTokens(src string) []string {
	if strings.ContainsAny(src, "|()?*{[") {
		return nil // alternation, groups, optional parts, classes: no word is surely required
	}
	var out []string
	for rest := src; ; {
		i := strings.Index(rest, `\b`)
		if i < 0 {
			break
		}
		rest = rest[i+2:]
		j := strings.Index(rest, `\b`)
		if j < 0 {
			break
		}
		word := rest[:j]
		if word != "" && isWord(word) {
			out = append(out, word)
		}
		rest = rest[j+2:]
	}
	return out
}

func isWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
