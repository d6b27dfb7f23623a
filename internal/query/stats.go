package query

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
)

// statsStage aggregates rows into groups keyed by the by-expressions.
type statsStage struct {
	aggs     []aggSpec
	by       []evalFn
	byNames  []string
	aggNames []string
}

type aggSpec struct {
	name string  // lower-case function name
	arg  evalFn  // nil for count() and count(*)
	p    float64 // pct's percentile
}

func (s *statsStage) fieldNames() []string {
	return append(slices.Clone(s.byNames), s.aggNames...)
}

func (c *compiler) statsStage(cmd StatsCmd) (*statsStage, error) {
	st := &statsStage{}
	for _, a := range cmd.Aggs {
		call, ok := a.Expr.(*Call)
		name := ""
		if ok {
			name = strings.ToLower(call.Name)
		}
		if _, isAgg := Aggregations[name]; !isAgg {
			return nil, errAt(a.Expr.pos(), "stats needs an aggregation such as count(), sum(x), avg(x) or pct(x, 99)")
		}
		spec := aggSpec{name: name}
		switch {
		case name == "count" && (len(call.Args) == 0 || isStar(call.Args[0])):
		case name == "pct":
			f, err := c.expr(call.Args[0])
			if err != nil {
				return nil, err
			}
			var p float64
			isNum := false
			if lit, ok := call.Args[1].(*Literal); ok {
				p, isNum = lit.Val.num()
			}
			if !isNum || p < 0 || p > 100 {
				return nil, errAt(call.Args[1].pos(), "pct's second argument must be a percentile between 0 and 100")
			}
			spec.arg, spec.p = f, p
		default:
			f, err := c.expr(call.Args[0])
			if err != nil {
				return nil, err
			}
			spec.arg = f
		}
		if name == "earliest" || name == "latest" {
			c.cols |= c.schema.columnsOf("@timestamp")
		}
		st.aggs = append(st.aggs, spec)
		st.aggNames = append(st.aggNames, a.Name)
	}
	for _, b := range cmd.By {
		f, err := c.expr(b.Expr)
		if err != nil {
			return nil, err
		}
		st.by = append(st.by, f)
		st.byNames = append(st.byNames, b.Name)
	}
	return st, nil
}

func isStar(e Expr) bool {
	ref, ok := e.(*FieldRef)
	return ok && ref.Name == "*"
}

// group is one stats group's key values and aggregation states.
type group struct {
	key  []Value
	aggs []aggState
}

// aggState accumulates one aggregation. Adding never allocates except to
// remember values (count_distinct, pct).
type aggState struct {
	n        int64
	sum      float64
	sumSq    float64
	min, max Value
	t        int64 // earliest/latest: time of best
	best     Value
	distinct map[string]struct{}
	values   []float64
}

func (s *statsStage) add(g *group, r *Row, ts int64) {
	for i := range s.aggs {
		spec, a := &s.aggs[i], &g.aggs[i]
		if spec.arg == nil {
			a.n++
			continue
		}
		v := spec.arg(r)
		if v.K == Null {
			continue
		}
		switch spec.name {
		case "count":
			a.n++
		case "count_distinct":
			if a.distinct == nil {
				a.distinct = map[string]struct{}{}
			}
			if _, ok := a.distinct[v.String()]; !ok {
				a.distinct[v.String()] = struct{}{}
			}
		case "sum", "avg", "stddev":
			if x, ok := v.num(); ok {
				a.n++
				a.sum += x
				a.sumSq += x * x
			}
		case "pct":
			if x, ok := v.num(); ok {
				a.values = append(a.values, x)
			}
		case "min", "sortsfirst":
			if a.n == 0 || compare(v, a.min) < 0 {
				a.min = v
			}
			a.n++
		case "max", "sortslast":
			if a.n == 0 || compare(v, a.max) > 0 {
				a.max = v
			}
			a.n++
		case "earliest":
			if a.n == 0 || ts < a.t {
				a.t, a.best = ts, v
			}
			a.n++
		case "latest":
			if a.n == 0 || ts > a.t {
				a.t, a.best = ts, v
			}
			a.n++
		}
	}
}

// merge folds o into g (same stage).
func (s *statsStage) merge(g, o *group) {
	for i := range s.aggs {
		a, b := &g.aggs[i], &o.aggs[i]
		switch s.aggs[i].name {
		case "count_distinct":
			if a.distinct == nil {
				a.distinct = map[string]struct{}{}
			}
			for k := range b.distinct {
				a.distinct[k] = struct{}{}
			}
		case "pct":
			a.values = append(a.values, b.values...)
		case "min", "sortsfirst":
			if b.n > 0 && (a.n == 0 || compare(b.min, a.min) < 0) {
				a.min = b.min
			}
		case "max", "sortslast":
			if b.n > 0 && (a.n == 0 || compare(b.max, a.max) > 0) {
				a.max = b.max
			}
		case "earliest":
			if b.n > 0 && (a.n == 0 || b.t < a.t) {
				a.t, a.best = b.t, b.best
			}
		case "latest":
			if b.n > 0 && (a.n == 0 || b.t > a.t) {
				a.t, a.best = b.t, b.best
			}
		}
		a.n += b.n
		a.sum += b.sum
		a.sumSq += b.sumSq
	}
}

func (s *statsStage) result(g *group) []Value {
	out := append([]Value(nil), g.key...)
	for i, spec := range s.aggs {
		a := &g.aggs[i]
		var v Value
		switch spec.name {
		case "count":
			v = intV(a.n)
		case "count_distinct":
			v = intV(int64(len(a.distinct)))
		case "sum":
			if a.n > 0 {
				v = number(a.sum)
			}
		case "avg":
			if a.n > 0 {
				v = floatV(a.sum / float64(a.n))
			}
		case "stddev":
			if a.n > 1 {
				mean := a.sum / float64(a.n)
				v = floatV(math.Sqrt(max(0, (a.sumSq-float64(a.n)*mean*mean)/float64(a.n-1))))
			} else if a.n == 1 {
				v = floatV(0)
			}
		case "pct":
			if len(a.values) > 0 {
				slices.Sort(a.values)
				// nearest rank
				rank := int(math.Ceil(spec.p / 100 * float64(len(a.values))))
				v = number(a.values[min(max(rank, 1), len(a.values))-1])
			}
		case "min", "sortsfirst":
			if a.n > 0 {
				v = a.min
			}
		case "max", "sortslast":
			if a.n > 0 {
				v = a.max
			}
		case "earliest", "latest":
			if a.n > 0 {
				v = a.best
			}
		}
		out = append(out, v)
	}
	return out
}

// number keeps integral floats as integers so results read naturally.
func number(f float64) Value {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return intV(int64(f))
	}
	return floatV(f)
}

// appendKey encodes values as a map key without allocating.
func appendKey(b []byte, vs []Value) []byte {
	for _, v := range vs {
		b = append(b, byte(v.K))
		switch v.K {
		case Int, Time, Bool:
			b = binary.LittleEndian.AppendUint64(b, uint64(v.I))
		case Float:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.F))
		case Str:
			b = binary.AppendUvarint(b, uint64(len(v.S)))
			b = append(b, v.S...)
		}
	}
	return b
}
