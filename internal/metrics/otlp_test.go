package metrics

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/miradorhq/mirador/internal/tenant"
)

func otlpMetrics(now time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "checkout")
	rm.Resource().Attributes().PutStr("service.instance.id", "pod-1")
	rm.Resource().Attributes().PutStr("deployment.environment", "prod")
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	ts := pcommon.NewTimestampFromTime(now)

	g := ms.AppendEmpty()
	g.SetName("queue.depth")
	g.SetUnit("{item}")
	dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(ts)
	dp.SetIntValue(17)

	c := ms.AppendEmpty()
	c.SetName("http.server.requests")
	c.SetUnit("1")
	sum := c.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp = sum.DataPoints().AppendEmpty()
	dp.SetTimestamp(ts)
	dp.SetDoubleValue(1234)
	dp.Attributes().PutStr("http.route", "/pay")

	h := ms.AppendEmpty()
	h.SetName("http.server.duration")
	h.SetUnit("s")
	hist := h.SetEmptyHistogram()
	hist.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	hp := hist.DataPoints().AppendEmpty()
	hp.SetTimestamp(ts)
	hp.SetCount(10)
	hp.SetSum(2.5)
	hp.ExplicitBounds().FromRaw([]float64{0.1, 1})
	hp.BucketCounts().FromRaw([]uint64{6, 3, 1})

	d := ms.AppendEmpty()
	d.SetName("jobs.done")
	ds := d.SetEmptySum()
	ds.SetIsMonotonic(true)
	ds.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	for i := 0; i < 3; i++ {
		dp := ds.DataPoints().AppendEmpty()
		dp.SetTimestamp(ts)
		dp.SetIntValue(1)
		dp.Attributes().PutInt("worker", int64(i))
	}
	return md
}

func TestConsumeOTLPTranslatesLikePrometheus(t *testing.T) {
	e := openTestEngine(t, nil)
	now := time.Now()
	res, err := e.ConsumeOTLP(tenant.WithID(context.Background(), "default"), otlpMetrics(now))
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected != 3 || !strings.Contains(res.Message, "jobs.done") || !strings.Contains(res.Message, "cumulative") {
		t.Errorf("result %+v: want the 3 delta points rejected with a remedy", res)
	}
	got := instant(t, e, "default", `{__name__=~"queue_depth|http_server_requests_total|http_server_duration_seconds_count|http_server_duration_seconds_bucket", le=~"|1"}`, now)
	want := map[string]float64{
		`{__name__="queue_depth", instance="pod-1", job="checkout"}`:                                   17,
		`{__name__="http_server_requests_total", http_route="/pay", instance="pod-1", job="checkout"}`: 1234,
		`{__name__="http_server_duration_seconds_count", instance="pod-1", job="checkout"}`:            10,
		`{__name__="http_server_duration_seconds_bucket", instance="pod-1", job="checkout", le="1"}`:   9,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	info := instant(t, e, "default", `target_info`, now)
	if len(info) != 1 || !strings.Contains(firstKey(info), `deployment_environment="prod"`) {
		t.Errorf("target_info = %v, want resource attributes", info)
	}
}

func firstKey(m map[string]float64) string {
	for k := range m {
		return k
	}
	return ""
}

func TestConsumeOTLPRateLimited(t *testing.T) {
	e := openTestEngine(t, func(string) Limits { return Limits{SamplesPerSecond: 1, BurstSamples: 2} })
	_, err := e.ConsumeOTLP(tenant.WithID(context.Background(), "default"), otlpMetrics(time.Now()))
	var rl *RateLimitError
	if !errors.As(err, &rl) || !rl.TooLarge || rl.StatusCode() != 413 {
		t.Fatalf("err = %v, want a too-large rate limit error", err)
	}
}
