package query

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// Scanner is the event store capability a plan runs on.
type Scanner interface {
	Scan(ctx context.Context, q eventstore.Query, newVisitor func() eventstore.Visitor) (eventstore.ScanStats, error)
}

// Limits bound one query of a front end (logs, traces): its time and the
// budgets of its Requests.
type Limits struct {
	Timeout    time.Duration
	MaxBytes   int64
	MaxRecords int64
	MaxRows    int
	Workers    int
}

// Request says what a plan runs over, and its budgets (zero: unlimited).
type Request struct {
	Tenant     string
	Dataset    string
	Groups     []string
	Start, End int64 // ns; End exclusive
	MaxRecords int64
	MaxBytes   int64
	MaxRows    int // result rows or stats groups held in memory
	Workers    int
}

// Result is a plan's answer: rows aligned with Fields.
type Result struct {
	Fields        []string
	Rows          [][]any
	Partial       bool
	PartialReason string
	Stats         eventstore.ScanStats
	// Records holds the matching records of a predicate plan, in order.
	Records []eventstore.Record
}

// Run executes p.
func Run(ctx context.Context, s Scanner, p *Plan, r Request) (*Result, error) {
	maxRows := r.MaxRows
	if maxRows <= 0 {
		maxRows = int(^uint(0) >> 1)
	}
	var (
		mu       sync.Mutex
		visitors []*visitor
	)
	newVisitor := func() eventstore.Visitor {
		v := &visitor{plan: p, maxRows: maxRows}
		if p.stats != nil {
			v.groups = map[string]*group{}
		} else {
			v.top = &topRows{plan: p, n: min(p.topN, maxRows)}
		}
		mu.Lock()
		visitors = append(visitors, v)
		mu.Unlock()
		return v
	}
	groups := r.Groups
	if p.Group != "" && (groups == nil || slices.Contains(groups, p.Group)) {
		groups = []string{p.Group}
	}
	stats, err := s.Scan(ctx, eventstore.Query{
		Tenant: r.Tenant, Dataset: r.Dataset, Groups: groups, Start: r.Start, End: r.End,
		Needles: p.Needles, AttrEquals: p.AttrEquals, Columns: p.Columns,
		MaxRecords: r.MaxRecords, MaxBytes: r.MaxBytes, Workers: r.Workers,
	}, newVisitor)
	if err != nil {
		return nil, err
	}
	res := &Result{Fields: p.fields, Stats: stats, Partial: stats.Partial, PartialReason: stats.PartialReason}
	var rows []*Row
	if p.stats != nil {
		rows = p.mergeStats(visitors, res, maxRows)
	} else {
		rows = p.mergeTop(visitors, res, maxRows)
	}
	for _, st := range p.post {
		rows = st(rows)
	}
	if p.keepRecords {
		for _, row := range rows {
			res.Records = append(res.Records, *row.rec)
		}
	}
	getters := make([]func(*Row) Value, len(p.fields))
	for i, f := range p.fields {
		getters[i] = p.schema.getter(f)
	}
	res.Rows = make([][]any, len(rows))
	for i, row := range rows {
		out := make([]any, len(getters))
		for j, g := range getters {
			out[j] = g(row).Any()
		}
		res.Rows[i] = out
	}
	return res, nil
}

// visitor runs the row-local stages on one scan worker's batches.
type visitor struct {
	plan    *Plan
	maxRows int
	row     Row
	keyBuf  []byte
	byBuf   []Value
	groups  map[string]*group
	full    bool // stopped adding groups at maxRows
	top     *topRows
}

func (v *visitor) Visit(b *eventstore.Batch) error {
	p := v.plan
	for i := range b.Records {
		rec := &b.Records[i]
		v.row.reset(rec)
		keep := true
		for _, st := range p.pre {
			if !st(&v.row) {
				keep = false
				break
			}
		}
		if !keep {
			continue
		}
		if p.stats == nil {
			v.top.offer(&v.row)
			continue
		}
		v.byBuf = v.byBuf[:0]
		for _, f := range p.stats.by {
			v.byBuf = append(v.byBuf, f(&v.row))
		}
		v.keyBuf = appendKey(v.keyBuf[:0], v.byBuf)
		g, ok := v.groups[string(v.keyBuf)]
		if !ok {
			if len(v.groups) >= v.maxRows {
				v.full = true
				continue
			}
			g = &group{key: slices.Clone(v.byBuf), aggs: make([]aggState, len(p.stats.aggs))}
			v.groups[string(v.keyBuf)] = g
		}
		p.stats.add(g, &v.row, rec.Time)
	}
	return nil
}

func (p *Plan) mergeStats(visitors []*visitor, res *Result, maxRows int) []*Row {
	merged := map[string]*group{}
	var order []string
	for _, v := range visitors {
		if v.full {
			res.Partial, res.PartialReason = true, fmt.Sprintf("more than %d groups; the result holds the first %d (eventstore.query_max_rows)", maxRows, maxRows)
		}
		for k, g := range v.groups {
			if m, ok := merged[k]; ok {
				p.stats.merge(m, g)
				continue
			}
			if len(merged) >= maxRows {
				res.Partial, res.PartialReason = true, fmt.Sprintf("more than %d groups; the result holds the first %d (eventstore.query_max_rows)", maxRows, maxRows)
				continue
			}
			merged[k] = g
			order = append(order, k)
		}
	}
	if len(merged) == 0 && len(p.stats.by) == 0 {
		g := &group{aggs: make([]aggState, len(p.stats.aggs))}
		merged[""], order = g, append(order, "")
	}
	names := p.stats.fieldNames()
	rows := make([]*Row, 0, len(merged))
	for _, k := range order {
		rows = append(rows, &Row{names: names, vals: p.stats.result(merged[k])})
	}
	// Groups come out in key order, bins ascending, unless the query sorts.
	slices.SortStableFunc(rows, func(a, b *Row) int {
		for i := range p.stats.by {
			if c := compare(a.vals[i], b.vals[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	return rows
}

func (p *Plan) mergeTop(visitors []*visitor, res *Result, maxRows int) []*Row {
	var all []*topRow
	dropped := false
	for _, v := range visitors {
		all = append(all, v.top.rows...)
		dropped = dropped || v.top.dropped
	}
	slices.SortStableFunc(all, func(a, b *topRow) int {
		switch {
		case p.less(a.key, b.key):
			return -1
		case p.less(b.key, a.key):
			return 1
		}
		return 0
	})
	n := min(p.topN, maxRows)
	if len(all) > n {
		all, dropped = all[:n], true
	}
	if dropped && maxRows < p.topN && (p.userLimit || len(all) == maxRows) {
		res.Partial, res.PartialReason = true, fmt.Sprintf("more than %d rows matched; the result holds %d (eventstore.query_max_rows)", maxRows, maxRows)
	}
	rows := make([]*Row, len(all))
	for i, t := range all {
		rows[i] = t.row
	}
	return rows
}

// topRows keeps the best n rows by the plan's order: a heap whose root is
// the worst kept row.
type topRows struct {
	plan    *Plan
	n       int
	rows    []*topRow
	keyBuf  []Value
	dropped bool
}

type topRow struct {
	key []Value
	row *Row
}

func (t *topRows) Len() int           { return len(t.rows) }
func (t *topRows) Less(i, j int) bool { return t.plan.less(t.rows[j].key, t.rows[i].key) }
func (t *topRows) Swap(i, j int)      { t.rows[i], t.rows[j] = t.rows[j], t.rows[i] }
func (t *topRows) Push(x any)         { t.rows = append(t.rows, x.(*topRow)) }
func (t *topRows) Pop() any {
	x := t.rows[len(t.rows)-1]
	t.rows = t.rows[:len(t.rows)-1]
	return x
}

func (t *topRows) offer(r *Row) {
	if t.n <= 0 {
		t.dropped = true
		return
	}
	t.keyBuf = t.keyBuf[:0]
	for _, o := range t.plan.order {
		t.keyBuf = append(t.keyBuf, o.eval(r))
	}
	if len(t.rows) >= t.n {
		t.dropped = true
		if !t.plan.less(t.keyBuf, t.rows[0].key) {
			return
		}
		heap.Pop(t)
	}
	heap.Push(t, &topRow{key: slices.Clone(t.keyBuf), row: r.clone()})
}

// postStage compiles a command that runs on the merged rows, updating the
// output fields.
func (c *compiler) postStage(cmd Command, out *outputFields) (postStage, error) {
	switch cmd := cmd.(type) {
	case FilterCmd:
		st, err := c.filterStage(cmd)
		if err != nil {
			return nil, err
		}
		return func(rows []*Row) []*Row {
			return slices.DeleteFunc(rows, func(r *Row) bool { return !st(r) })
		}, nil
	case FieldsCmd:
		st, err := c.fieldsStage(cmd)
		if err != nil {
			return nil, err
		}
		out.fields(cmd)
		return func(rows []*Row) []*Row {
			for _, r := range rows {
				st(r)
			}
			return rows
		}, nil
	case ParseCmd:
		st, err := c.parseStage(cmd)
		if err != nil {
			return nil, err
		}
		out.parsed(cmd)
		return func(rows []*Row) []*Row {
			for _, r := range rows {
				st(r)
			}
			return rows
		}, nil
	case SortCmd:
		var keys []sortFn
		for _, k := range cmd.Keys {
			f, err := c.expr(k.Expr)
			if err != nil {
				return nil, err
			}
			keys = append(keys, sortFn{f, k.Desc})
		}
		return func(rows []*Row) []*Row {
			slices.SortStableFunc(rows, func(a, b *Row) int {
				for _, k := range keys {
					x := compare(k.eval(a), k.eval(b))
					if k.desc {
						x = -x
					}
					if x != 0 {
						return x
					}
				}
				return 0
			})
			return rows
		}, nil
	case LimitCmd:
		n := cmd.N
		return func(rows []*Row) []*Row { return rows[:min(n, len(rows))] }, nil
	case DedupCmd:
		getters := make([]func(*Row) Value, len(cmd.Names))
		for i, n := range cmd.Names {
			c.cols |= c.schema.columnsOf(n)
			getters[i] = c.schema.getter(n)
		}
		return func(rows []*Row) []*Row {
			seen := map[string]bool{}
			var key []byte
			var vals []Value
			return slices.DeleteFunc(rows, func(r *Row) bool {
				vals = vals[:0]
				for _, g := range getters {
					v := g(r)
					if v.K == Null {
						return false // rows with a null dedup field are kept
					}
					vals = append(vals, v)
				}
				key = appendKey(key[:0], vals)
				if seen[string(key)] {
					return true
				}
				seen[string(key)] = true
				return false
			})
		}, nil
	case DisplayCmd:
		for _, n := range cmd.Names {
			c.cols |= c.schema.columnsOf(n)
		}
		out.names, out.implicit = cmd.Names, false
		return nil, nil
	case StatsCmd:
		return nil, &SyntaxError{Pos: Pos{Line: 1, Column: 1}, Msg: "only one stats command is supported per query"}
	}
	return nil, fmt.Errorf("unknown command %T", cmd)
}

// NewPredicatePlan is the plan of a filter-pattern search: the records
// match accepts, in time order, at most limit of them. Result.Records holds
// them; the rows carry @timestamp, @ingestionTime, @log, @logStream and
// @message.
func NewPredicatePlan(match func(*eventstore.Record) bool, needles []string, columns eventstore.Column, limit int, ascending bool) *Plan {
	return &Plan{
		Columns: columns | eventstore.ColTime,
		Needles: needles,
		pre:     []rowStage{func(r *Row) bool { return match(r.rec) }},
		fields:  []string{"@timestamp", "@ingestionTime", "@log", "@logStream", "@message"},
		order: []sortFn{
			{eval: Logs.getter("@timestamp"), desc: !ascending},
			{eval: Logs.getter("@logStream"), desc: !ascending},
			{eval: Logs.getter("@ingestionTime"), desc: !ascending},
			{eval: Logs.getter("@message"), desc: !ascending},
		},
		topN:        limit,
		userLimit:   true,
		keepRecords: true,
	}
}
