package logql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Expr is a parsed query: a *LogQuery or a metric expression
// (*RangeAgg, *VectorAgg, *Binary, *Number).
type Expr interface{ Position() Pos }

// Matcher is one label matcher of a stream selector.
type Matcher struct {
	Name, Op, Value string // Op: = != =~ !~
}

// LogQuery is a stream selector and its pipeline.
type LogQuery struct {
	Pos      Pos
	Matchers []Matcher
	Pipeline []Stage
}

// Stage is one pipeline stage.
type Stage interface{ stage() }

// LineFilter keeps lines that contain (|=), do not contain (!=), match
// (|~), do not match (!~) or fit a pattern (|>, !>) any of Values.
type LineFilter struct {
	Op     string
	Values []string // alternatives joined by "or"
}

// Parser extracts labels: json, logfmt, regexp, pattern or unpack.
type Parser struct {
	Kind   string
	Param  string            // the expression of regexp and pattern
	Fields map[string]string // json/logfmt: label = "path" extractions
	Flags  []string          // logfmt: --strict, --keep-empty
}

// LabelFilter is a boolean tree of label comparisons.
type LabelFilter struct {
	// A leaf: Name Op Value, Value of Kind string, number, duration or bytes.
	Name, Op string
	Value    Value
	// An inner node: And or Or over L and R.
	And, Or bool
	L, R    *LabelFilter
}

// Value is a literal compared with a label.
type Value struct {
	Kind  string // string, number, duration, bytes
	Str   string
	Num   float64 // numbers, durations in seconds, bytes
	Text  string  // as written
	IsSet bool
}

// LineFormat rewrites the line with a Go template.
type LineFormat struct{ Template string }

// LabelFormat renames labels (a=b) or sets them from templates (a="{{.x}}").
type LabelFormat struct {
	Renames   map[string]string // new ← old
	Templates map[string]string
}

// Drop and Keep remove labels, or all but some; with a value a label is
// dropped or kept only when it has that value.
type Drop struct{ Labels []Matcher }

// Keep keeps only the listed labels.
type Keep struct{ Labels []Matcher }

// Decolorize strips ANSI colour codes.
type Decolorize struct{}

func (*LineFilter) stage()  {}
func (*Parser) stage()      {}
func (*LabelFilter) stage() {}
func (*LineFormat) stage()  {}
func (*LabelFormat) stage() {}
func (*Drop) stage()        {}
func (*Keep) stage()        {}
func (*Decolorize) stage()  {}

// Unwrap takes a label's value as the sample value of a range: as a
// number, or converted by duration() (seconds) or bytes().
type Unwrap struct {
	Label, Conv string // Conv: "", duration, duration_seconds, bytes
	Post        []*LabelFilter
}

// RangeAgg is a range aggregation: count_over_time, rate, bytes_over_time,
// bytes_rate, absent_over_time, rate_counter, or with Unwrap sum_, avg_,
// min_, max_, stddev_, stdvar_, first_, last_, quantile_over_time.
type RangeAgg struct {
	Pos    Pos
	Op     string
	Param  float64 // quantile_over_time's φ
	Query  *LogQuery
	Unwrap *Unwrap
	Range  time.Duration
	Offset time.Duration
	By     *Grouping // quantile_over_time etc. allow by/without
}

// Grouping is by (…) or without (…).
type Grouping struct {
	Without bool
	Labels  []string
}

// VectorAgg aggregates a metric expression: sum, avg, min, max, count,
// stddev, stdvar, topk, bottomk, sort, sort_desc.
type VectorAgg struct {
	Pos   Pos
	Op    string
	Param float64 // topk and bottomk
	By    *Grouping
	Expr  Expr
}

// Binary is an arithmetic, comparison or set operation.
type Binary struct {
	Pos      Pos
	Op       string
	Bool     bool
	L, R     Expr
	Matching *Grouping // on (…) / ignoring (…) as Without=ignoring
}

// Number is a scalar literal.
type Number struct {
	Pos Pos
	Val float64
}

// Position returns where the expression starts.
func (q *LogQuery) Position() Pos  { return q.Pos }
func (r *RangeAgg) Position() Pos  { return r.Pos }
func (v *VectorAgg) Position() Pos { return v.Pos }
func (b *Binary) Position() Pos    { return b.Pos }
func (n *Number) Position() Pos    { return n.Pos }

// ParseDuration reads a duration as Prometheus writes it (5m, 1h30m, 2d)
// or as Go does (1.5s, 250ms, 3µs).
func ParseDuration(s string) (time.Duration, error) {
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return time.ParseDuration(s)
}

var byteUnits = map[string]float64{
	"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40, "pib": 1 << 50,
}

// ParseBytes reads a byte size: 512, 10KB, 1.5MiB (KB is 1000, KiB 1024).
func ParseBytes(s string) (float64, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		return strconv.ParseFloat(s, 64)
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	mult, ok := byteUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	if err != nil || !ok || math.IsInf(n, 0) {
		return 0, fmt.Errorf("invalid byte size %q", s)
	}
	return n * mult, nil
}
