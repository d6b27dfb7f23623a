package logs

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/query/logql"
)

// LokiMetricRequest is a LogQL metric query evaluated at Start, Start+Step,
// … up to End.
type LokiMetricRequest struct {
	Expr       logql.Expr
	Start, End time.Time
	Step       time.Duration
}

// LokiSeries is one series of a metric query's answer; Values[i] is the
// value at Start+i·Step, NaN where the series has none.
type LokiSeries struct {
	Labels map[string]string
	Values []float64
}

// LokiMetricResult is a metric query's answer: series, or a scalar.
type LokiMetricResult struct {
	Series []LokiSeries
	Scalar []float64 // set when the query is a number
	Stats  eventstore.ScanStats
}

// maxLokiSteps bounds the points of one query, as Loki's 11,000.
const maxLokiSteps = 11000

// QueryLokiMetric evaluates a LogQL metric query: range aggregations over
// the log lines its pipelines keep, then vector aggregations and binary
// operations, at every step.
func (s *Service) QueryLokiMetric(ctx context.Context, tenant string, req LokiMetricRequest) (*LokiMetricResult, error) {
	if req.Step <= 0 {
		return nil, fmt.Errorf("%w: step must be positive", ErrInvalidQuery)
	}
	n := int(req.End.Sub(req.Start)/req.Step) + 1
	if n < 1 || n > maxLokiSteps {
		return nil, fmt.Errorf("%w: %d points (from start to end at step); at most %d: use a longer step", ErrInvalidQuery, n, maxLokiSteps)
	}
	ev := &metricEval{s: s, ctx: ctx, tenant: tenant, start: req.Start, step: req.Step, n: n}
	v, err := ev.eval(req.Expr)
	if err != nil {
		return nil, err
	}
	out := &LokiMetricResult{Stats: ev.stats, Scalar: v.scalar}
	for _, sr := range v.series {
		out.Series = append(out.Series, LokiSeries{Labels: sr.labels, Values: sr.values})
	}
	sort.Slice(out.Series, func(i, j int) bool { return labelKey(out.Series[i].Labels) < labelKey(out.Series[j].Labels) })
	return out, nil
}

type series struct {
	labels map[string]string
	values []float64
}

// value is an evaluated expression: series, or a scalar per step.
type value struct {
	series map[string]*series
	scalar []float64
}

type metricEval struct {
	s      *Service
	ctx    context.Context
	tenant string
	start  time.Time
	step   time.Duration
	n      int
	stats  eventstore.ScanStats
}

func (e *metricEval) nan() []float64 {
	v := make([]float64, e.n)
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}

func (e *metricEval) eval(x logql.Expr) (value, error) {
	switch x := x.(type) {
	case *logql.Number:
		v := make([]float64, e.n)
		for i := range v {
			v[i] = x.Val
		}
		return value{scalar: v}, nil
	case *logql.RangeAgg:
		return e.rangeAgg(x)
	case *logql.VectorAgg:
		return e.vectorAgg(x)
	case *logql.Binary:
		return e.binary(x)
	case *logql.LogQuery:
		return value{}, fmt.Errorf("%w: a log query is not a metric; aggregate it, e.g. count_over_time({…}[5m])", ErrInvalidQuery)
	}
	return value{}, fmt.Errorf("%w: %T", ErrUnsupportedLogQL, x)
}

// acc accumulates the samples of one bucket of one series.
type acc struct {
	count, sum, sumSq float64
	min, max          float64
	firstT, lastT     int64
	first, last       float64
	values            []float64 // quantile_over_time only
}

func (a *acc) add(t int64, v float64, keep bool) {
	if a.count == 0 || v < a.min {
		a.min = v
	}
	if a.count == 0 || v > a.max {
		a.max = v
	}
	if a.count == 0 || t < a.firstT {
		a.firstT, a.first = t, v
	}
	if a.count == 0 || t >= a.lastT {
		a.lastT, a.last = t, v
	}
	a.count++
	a.sum += v
	a.sumSq += v * v
	if keep {
		a.values = append(a.values, v)
	}
}

func (a *acc) merge(b *acc) {
	if b.count == 0 {
		return
	}
	if a.count == 0 {
		*a = *b
		a.values = append([]float64(nil), b.values...)
		return
	}
	a.min, a.max = math.Min(a.min, b.min), math.Max(a.max, b.max)
	if b.firstT < a.firstT {
		a.firstT, a.first = b.firstT, b.first
	}
	if b.lastT >= a.lastT {
		a.lastT, a.last = b.lastT, b.last
	}
	a.count += b.count
	a.sum += b.sum
	a.sumSq += b.sumSq
	a.values = append(a.values, b.values...)
}

type seriesAcc struct {
	labels  map[string]string
	buckets map[int64]*acc
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// rangeAgg scans the lines of a range aggregation once, summing them into
// buckets of the greatest common divisor of step, range and offset, from
// which every step's window is added up.
func (e *metricEval) rangeAgg(r *logql.RangeAgg) (value, error) {
	p, err := compilePipeline(r.Query)
	if err != nil {
		return value{}, err
	}
	conv, err := unwrapper(r.Unwrap)
	if err != nil {
		return value{}, err
	}
	rng, off, step := r.Range.Milliseconds(), r.Offset.Milliseconds(), e.step.Milliseconds()
	if rng <= 0 || step <= 0 {
		return value{}, fmt.Errorf("%w: range and step must be at least 1ms", ErrInvalidQuery)
	}
	q := gcd(rng, step)
	if off > 0 {
		q = gcd(q, off)
	}
	origin := e.start.UnixMilli() - rng - off
	endMs := e.start.Add(time.Duration(e.n-1)*e.step).UnixMilli() - off
	keep := r.Op == "quantile_over_time"

	var mu sync.Mutex
	var locals []map[string]*seriesAcc
	newVisitor := func() eventstore.Visitor {
		local := map[string]*seriesAcc{}
		mu.Lock()
		locals = append(locals, local)
		mu.Unlock()
		return visitorFunc(func(b *eventstore.Batch) error {
			for i := range b.Records {
				rec := &b.Records[i]
				labels, line, ok := p.run(rec)
				if !ok {
					continue
				}
				v := 1.0
				switch {
				case conv != nil:
					if v, ok = conv(labels); !ok {
						continue
					}
				case r.Op == "bytes_over_time" || r.Op == "bytes_rate":
					v = float64(len(line))
				}
				if r.By != nil {
					labels = group(labels, r.By)
				}
				key := labelKey(labels)
				sa := local[key]
				if sa == nil {
					sa = &seriesAcc{labels: labels, buckets: map[int64]*acc{}}
					local[key] = sa
				}
				t := rec.Time / int64(time.Millisecond)
				idx := (t - origin + q - 1) / q // bucket (origin+(idx-1)q, origin+idx·q]
				a := sa.buckets[idx]
				if a == nil {
					a = &acc{}
					sa.buckets[idx] = a
				}
				a.add(t, v, keep)
			}
			return nil
		})
	}
	var groups []string
	if p.group != "" {
		groups = []string{p.group}
	}
	lim := e.s.opts.Query
	ctx := e.ctx
	if lim.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, lim.Timeout)
		defer cancel()
	}
	stats, err := e.s.opts.Store.Scan(ctx, eventstore.Query{
		Tenant: e.tenant, Dataset: eventstore.DatasetLogs, Groups: groups,
		Start: (origin + 1) * int64(time.Millisecond), End: (endMs + 1) * int64(time.Millisecond),
		Needles: p.needles, Columns: lokiColumns, MaxRecords: lim.MaxRecords, MaxBytes: lim.MaxBytes, Workers: lim.Workers,
	}, newVisitor)
	if err != nil {
		return value{}, err
	}
	if stats.Partial {
		return value{}, fmt.Errorf("%w: the query read more than its budget allows (%s): narrow the selector or the time range", ErrInvalidQuery, stats.PartialReason)
	}
	e.stats.RecordsScanned += stats.RecordsScanned
	e.stats.BytesScanned += stats.BytesScanned

	merged := map[string]*seriesAcc{}
	for _, local := range locals {
		for k, sa := range local {
			m := merged[k]
			if m == nil {
				merged[k] = sa
				continue
			}
			for idx, a := range sa.buckets {
				if m.buckets[idx] == nil {
					m.buckets[idx] = a
				} else {
					m.buckets[idx].merge(a)
				}
			}
		}
	}
	out := value{series: map[string]*series{}}
	perWindow := rng / q
	seen := make([]bool, e.n)
	for k, sa := range merged {
		sr := &series{labels: sa.labels, values: e.nan()}
		for i := range e.n {
			hi := (e.start.UnixMilli() + int64(i)*step - off - origin) / q // last bucket index of the window
			var w acc
			for idx := hi - perWindow + 1; idx <= hi; idx++ {
				if a := sa.buckets[idx]; a != nil {
					w.merge(a)
				}
			}
			if w.count == 0 {
				continue
			}
			seen[i] = true
			sr.values[i] = finish(r, &w)
		}
		out.series[k] = sr
	}
	if r.Op == "absent_over_time" {
		labels := map[string]string{}
		for _, m := range r.Query.Matchers {
			if m.Op == "=" {
				labels[m.Name] = m.Value
			}
		}
		sr := &series{labels: labels, values: e.nan()}
		for i, had := range seen {
			if !had {
				sr.values[i] = 1
			}
		}
		return value{series: map[string]*series{labelKey(labels): sr}}, nil
	}
	return out, nil
}

// finish turns a window's samples into the range aggregation's value.
func finish(r *logql.RangeAgg, w *acc) float64 {
	secs := r.Range.Seconds()
	switch r.Op {
	case "count_over_time":
		return w.count
	case "rate":
		return w.count / secs
	case "bytes_over_time", "sum_over_time":
		return w.sum
	case "bytes_rate":
		return w.sum / secs
	case "rate_counter":
		return (w.last - w.first) / secs
	case "avg_over_time":
		return w.sum / w.count
	case "min_over_time":
		return w.min
	case "max_over_time":
		return w.max
	case "first_over_time":
		return w.first
	case "last_over_time":
		return w.last
	case "stddev_over_time", "stdvar_over_time":
		mean := w.sum / w.count
		v := math.Max(w.sumSq/w.count-mean*mean, 0)
		if r.Op == "stddev_over_time" {
			return math.Sqrt(v)
		}
		return v
	case "quantile_over_time":
		return quantile(r.Param, w.values)
	}
	return math.NaN()
}

// quantile is Prometheus's: linear interpolation between closest ranks.
func quantile(q float64, vs []float64) float64 {
	if len(vs) == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	if q < 0 {
		return math.Inf(-1)
	}
	if q > 1 {
		return math.Inf(1)
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	rank := q * float64(len(s)-1)
	lo := math.Floor(rank)
	hi := math.Ceil(rank)
	w := rank - lo
	return s[int(lo)]*(1-w) + s[int(hi)]*w
}

// unwrapper returns how an unwrapped range reads its sample value from a
// line's labels (nil without unwrap). The unwrapped label leaves the
// series' labels, as in Loki.
func unwrapper(u *logql.Unwrap) (func(map[string]string) (float64, bool), error) {
	if u == nil {
		return nil, nil
	}
	var post []func(map[string]string) bool
	for _, f := range u.Post {
		fn, err := labelFilterFunc(f)
		if err != nil {
			return nil, err
		}
		post = append(post, fn)
	}
	return func(labels map[string]string) (float64, bool) {
		s, ok := labels[u.Label]
		if !ok {
			return 0, false
		}
		delete(labels, u.Label)
		for _, f := range post {
			if !f(labels) {
				return 0, false
			}
		}
		var v float64
		var err error
		switch u.Conv {
		case "duration", "duration_seconds":
			var d time.Duration
			d, err = logql.ParseDuration(s)
			v = d.Seconds()
		case "bytes":
			v, err = logql.ParseBytes(s)
		default:
			v, err = strconv.ParseFloat(s, 64)
		}
		return v, err == nil
	}, nil
}

// group keeps the labels of by (…) or drops those of without (…).
func group(labels map[string]string, g *logql.Grouping) map[string]string {
	out := map[string]string{}
	if g.Without {
		for k, v := range labels {
			out[k] = v
		}
		for _, l := range g.Labels {
			delete(out, l)
		}
		return out
	}
	for _, l := range g.Labels {
		if v, ok := labels[l]; ok {
			out[l] = v
		}
	}
	return out
}

// lokiColumns are what LogQL reads of a record.
const lokiColumns = eventstore.ColTime | eventstore.ColGroup | eventstore.ColStream | eventstore.ColBody | eventstore.ColSeverity | eventstore.ColAttributes | eventstore.ColResource

type visitorFunc func(*eventstore.Batch) error

func (f visitorFunc) Visit(b *eventstore.Batch) error { return f(b) }

// vectorAgg aggregates series step by step, grouped by (or without)
// labels; topk and bottomk keep the k largest or smallest at each step.
func (e *metricEval) vectorAgg(a *logql.VectorAgg) (value, error) {
	in, err := e.eval(a.Expr)
	if err != nil {
		return value{}, err
	}
	if in.scalar != nil {
		return value{}, fmt.Errorf("%w: %s aggregates series, not a number", ErrInvalidQuery, a.Op)
	}
	switch a.Op {
	case "sort", "sort_desc":
		return in, nil
	case "topk", "bottomk":
		return e.topk(a, in), nil
	}
	groups := map[string][]*series{}
	labelsOf := map[string]map[string]string{}
	for _, sr := range in.series {
		l := map[string]string{}
		if a.By != nil {
			l = group(sr.labels, a.By)
		}
		k := labelKey(l)
		groups[k] = append(groups[k], sr)
		labelsOf[k] = l
	}
	out := value{series: map[string]*series{}}
	for k, members := range groups {
		sr := &series{labels: labelsOf[k], values: e.nan()}
		for i := range e.n {
			var vals []float64
			for _, m := range members {
				if v := m.values[i]; !math.IsNaN(v) {
					vals = append(vals, v)
				}
			}
			if len(vals) > 0 {
				sr.values[i] = aggregate(a.Op, vals)
			}
		}
		out.series[k] = sr
	}
	return out, nil
}

func aggregate(op string, vals []float64) float64 {
	sum, sumSq := 0.0, 0.0
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		sum += v
		sumSq += v * v
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	n := float64(len(vals))
	switch op {
	case "sum":
		return sum
	case "avg":
		return sum / n
	case "min":
		return lo
	case "max":
		return hi
	case "count":
		return n
	case "stddev", "stdvar":
		mean := sum / n
		v := math.Max(sumSq/n-mean*mean, 0)
		if op == "stddev" {
			return math.Sqrt(v)
		}
		return v
	}
	return math.NaN()
}

func (e *metricEval) topk(a *logql.VectorAgg, in value) value {
	k := int(a.Param)
	out := value{series: map[string]*series{}}
	groups := map[string][]string{}
	for key, sr := range in.series {
		g := ""
		if a.By != nil {
			g = labelKey(group(sr.labels, a.By))
		}
		groups[g] = append(groups[g], key)
	}
	for _, keys := range groups {
		for i := range e.n {
			var present []string
			for _, key := range keys {
				if !math.IsNaN(in.series[key].values[i]) {
					present = append(present, key)
				}
			}
			sort.Slice(present, func(x, y int) bool {
				vx, vy := in.series[present[x]].values[i], in.series[present[y]].values[i]
				if a.Op == "bottomk" {
					return vx < vy
				}
				return vx > vy
			})
			for _, key := range present[:min(k, len(present))] {
				sr := out.series[key]
				if sr == nil {
					sr = &series{labels: in.series[key].labels, values: e.nan()}
					out.series[key] = sr
				}
				sr.values[i] = in.series[key].values[i]
			}
		}
	}
	return out
}

// binary applies an operator: between numbers, a series and a number
// (each point), or two series matched on identical labels (or on the
// on/ignoring labels). Comparisons filter unless bool, which gives 0 or 1.
func (e *metricEval) binary(b *logql.Binary) (value, error) {
	l, err := e.eval(b.L)
	if err != nil {
		return value{}, err
	}
	r, err := e.eval(b.R)
	if err != nil {
		return value{}, err
	}
	switch b.Op {
	case "and", "or", "unless":
		if l.scalar != nil || r.scalar != nil {
			return value{}, fmt.Errorf("%w: %s works between series, not numbers", ErrInvalidQuery, b.Op)
		}
		return e.setOp(b, l, r), nil
	}
	if l.scalar != nil && r.scalar != nil {
		v := make([]float64, e.n)
		for i := range v {
			x, keep := arith(b.Op, l.scalar[i], r.scalar[i], true)
			if !keep {
				x = math.NaN()
			}
			v[i] = x
		}
		return value{scalar: v}, nil
	}
	out := value{series: map[string]*series{}}
	apply := func(key string, labels map[string]string, lv, rv []float64, keepLeft bool) {
		sr := &series{labels: labels, values: e.nan()}
		for i := range e.n {
			if math.IsNaN(lv[i]) || math.IsNaN(rv[i]) {
				continue
			}
			x, keep := arith(b.Op, lv[i], rv[i], b.Bool)
			switch {
			case !keep:
			case isComparison(b.Op) && !b.Bool && !keepLeft:
				sr.values[i] = rv[i]
			case isComparison(b.Op) && !b.Bool:
				sr.values[i] = lv[i]
			default:
				sr.values[i] = x
			}
		}
		out.series[key] = sr
	}
	switch {
	case l.scalar != nil:
		for k, sr := range r.series {
			apply(k, sr.labels, l.scalar, sr.values, false)
		}
	case r.scalar != nil:
		for k, sr := range l.series {
			apply(k, sr.labels, sr.values, r.scalar, true)
		}
	default:
		right := map[string]*series{}
		for _, sr := range r.series {
			right[matchKey(sr.labels, b.Matching)] = sr
		}
		for _, sr := range l.series {
			mk := matchKey(sr.labels, b.Matching)
			if rs := right[mk]; rs != nil {
				labels := sr.labels
				if b.Matching != nil && !isComparison(b.Op) {
					labels = group(sr.labels, b.Matching)
				}
				apply(labelKey(labels), labels, sr.values, rs.values, true)
			}
		}
	}
	return out, nil
}

func matchKey(labels map[string]string, m *logql.Grouping) string {
	if m == nil {
		return labelKey(labels)
	}
	return labelKey(group(labels, m))
}

func isComparison(op string) bool {
	switch op {
	case "==", "!=", ">", ">=", "<", "<=":
		return true
	}
	return false
}

// arith computes l op r; keep is false when a comparison fails and bool
// is not set.
func arith(op string, l, r float64, boolean bool) (float64, bool) {
	cmp := func(ok bool) (float64, bool) {
		if boolean {
			if ok {
				return 1, true
			}
			return 0, true
		}
		return l, ok
	}
	switch op {
	case "+":
		return l + r, true
	case "-":
		return l - r, true
	case "*":
		return l * r, true
	case "/":
		return l / r, true
	case "%":
		return math.Mod(l, r), true
	case "^":
		return math.Pow(l, r), true
	case "==":
		return cmp(l == r)
	case "!=":
		return cmp(l != r)
	case ">":
		return cmp(l > r)
	case ">=":
		return cmp(l >= r)
	case "<":
		return cmp(l < r)
	case "<=":
		return cmp(l <= r)
	}
	return math.NaN(), false
}

func (e *metricEval) setOp(b *logql.Binary, l, r value) value {
	out := value{series: map[string]*series{}}
	right := map[string]*series{}
	for _, sr := range r.series {
		right[matchKey(sr.labels, b.Matching)] = sr
	}
	for k, sr := range l.series {
		rs := right[matchKey(sr.labels, b.Matching)]
		res := &series{labels: sr.labels, values: e.nan()}
		for i, v := range sr.values {
			has := rs != nil && !math.IsNaN(rs.values[i])
			if b.Op == "and" && has || b.Op == "unless" && !has || b.Op == "or" {
				res.values[i] = v
			}
		}
		out.series[k] = res
	}
	if b.Op == "or" {
		left := map[string]bool{}
		for _, sr := range l.series {
			left[matchKey(sr.labels, b.Matching)] = true
		}
		for k, sr := range r.series {
			if !left[matchKey(sr.labels, b.Matching)] {
				out.series[k] = sr
			}
		}
	}
	return out
}
