package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// CheckExpr parses a PromQL expression, for callers that store one to
// evaluate later (alarms). The error says where the expression is wrong.
func (e *Engine) CheckExpr(expr string) error {
	_, err := e.parser.ParseExpr(expr)
	return err
}

// ParseExpr parses a PromQL expression with the options every Engine
// uses, without an Engine.
func ParseExpr(expr string) error {
	_, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	return err
}

// QueryRange evaluates a PromQL expression over a tenant's TSDB at every
// step from start to end, as /api/v1/query_range does. The matrix is the
// caller's; scalars come back as one series without labels.
func (e *Engine) QueryRange(ctx context.Context, tenant, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	t, err := e.tenant(tenant)
	if err != nil {
		return nil, err
	}
	q, err := e.query.NewRangeQuery(ctx, t.db, nil, expr, start, end, step)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Matrix:
		// Close hands the points back to the engine's pools: copy them.
		out := make(promql.Matrix, len(v))
		for i, s := range v {
			out[i] = promql.Series{Metric: s.Metric, Floats: append([]promql.FPoint(nil), s.Floats...), Histograms: append([]promql.HPoint(nil), s.Histograms...)}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("query returned a %s, want a range of values", v.Type())
	}
}
