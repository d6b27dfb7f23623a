package traces

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/query"
)

// Span metric names, as the OpenTelemetry Collector's spanmetrics
// connector writes them to Prometheus.
const (
	MetricCalls    = "traces_span_metrics_calls_total"
	MetricDuration = "traces_span_metrics_duration_seconds"
)

// OtherOperation is the span_name of operations beyond a service's limit.
const OtherOperation = "other"

// histogramSchema is the native histograms' resolution: buckets grow by
// 2^(2^-3) ≈ 1.09, so a quantile is off by at most ~4.5 %.
const histogramSchema = 3

// Appendable opens appenders to a tenant's metrics (metrics.Engine).
type Appendable interface {
	Appender(ctx context.Context, tenant string) (storage.AppenderV2, error)
}

// SpanMetrics turns spans into RED metrics: per service, span name, span
// kind and status code, a call counter and a native histogram of
// durations. Counts accumulate in memory and are written to the tenant's
// TSDB as cumulative series every interval, as an SDK exports them.
// Operations of a service beyond MaxOperations fold into span_name
// "other" (counted in mirador_traces_span_metrics_folded_spans_total).
type SpanMetrics struct {
	dst           Appendable
	interval      time.Duration
	maxOperations int
	idle          time.Duration // a series not updated for this long is written stale and forgotten
	logger        *slog.Logger
	now           func() time.Time

	mu      sync.Mutex
	tenants map[string]*tenantSpanMetrics
	folded  map[string]int64 // tenant/service → spans folded since the last warning

	stop chan struct{}
	done chan struct{}
}

type tenantSpanMetrics struct {
	series map[seriesKey]*redSeries
	ops    map[string]map[string]bool // service → operations with own series
}

type seriesKey struct {
	service, name string
	kind, status  int8
}

type redSeries struct {
	calls    float64
	zero     uint64
	buckets  map[int32]uint64
	sum      float64
	updated  time.Time
	ref      storage.SeriesRef
	histRef  storage.SeriesRef
	lbls     labels.Labels
	histLbls labels.Labels
}

// NewSpanMetrics returns span metrics writing to dst every interval; call
// Close to write the last values and stop.
func NewSpanMetrics(dst Appendable, interval time.Duration, maxOperations int, logger *slog.Logger) *SpanMetrics {
	if interval <= 0 {
		interval = 15 * time.Second
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &SpanMetrics{
		dst: dst, interval: interval, maxOperations: maxOperations, idle: max(5*time.Minute, 4*interval),
		logger: logger, now: time.Now,
		tenants: map[string]*tenantSpanMetrics{}, folded: map[string]int64{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go m.loop()
	return m
}

// Record counts stored spans; X-Ray segments still in progress are left
// for their complete copy.
func (m *SpanMetrics) Record(_ context.Context, tenant string, spans []eventstore.Record) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenants[tenant]
	if t == nil {
		t = &tenantSpanMetrics{series: map[seriesKey]*redSeries{}, ops: map[string]map[string]bool{}}
		m.tenants[tenant] = t
	}
	for i := range spans {
		r := &spans[i]
		if inProgress(r) {
			continue // counted when its complete copy arrives
		}
		k := seriesKey{service: r.Group, name: t.operation(r.Group, r.Name, m.maxOperations), kind: r.Kind, status: r.StatusCode}
		if k.name == OtherOperation && r.Name != OtherOperation {
			m.folded[tenant+"/"+r.Group]++
		}
		s := t.series[k]
		if s == nil {
			s = &redSeries{buckets: map[int32]uint64{}}
			s.lbls, s.histLbls = seriesLabels(k)
			t.series[k] = s
		}
		s.calls++
		secs := float64(r.Duration) / 1e9
		s.sum += secs
		if secs <= 0 {
			s.zero++
		} else {
			s.buckets[bucketIndex(secs)]++
		}
		s.updated = now
	}
	return nil
}

// operation is the span_name series of name, folding new names beyond
// the service's limit into "other".
func (t *tenantSpanMetrics) operation(service, name string, limit int) string {
	ops := t.ops[service]
	if ops == nil {
		ops = map[string]bool{}
		t.ops[service] = ops
	}
	if ops[name] {
		return name
	}
	if limit > 0 && len(ops) >= limit {
		return OtherOperation
	}
	ops[name] = true
	return name
}

func seriesLabels(k seriesKey) (calls, duration labels.Labels) {
	b := labels.NewScratchBuilder(6)
	build := func(name string) labels.Labels {
		b.Reset()
		b.Add(model.MetricNameLabel, name)
		b.Add("service_name", k.service)
		b.Add("span_name", k.name)
		b.Add("span_kind", "SPAN_KIND_"+upper(query.SpanKindName(k.kind)))
		b.Add("status_code", "STATUS_CODE_"+upper(query.StatusName(k.status)))
		b.Sort()
		return b.Labels()
	}
	return build(MetricCalls), build(MetricDuration)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// bucketIndex is the native histogram bucket of v > 0 at histogramSchema:
// bucket i holds (2^((i-1)/8), 2^(i/8)].
func bucketIndex(v float64) int32 {
	frac, exp := math.Frexp(v) // v = frac × 2^exp, frac in [0.5, 1)
	const scale = 1 << histogramSchema
	// log2(v) = exp + log2(frac); the bucket is ceil(log2(v) × scale).
	idx := int32(math.Ceil((float64(exp) + math.Log2(frac)) * scale))
	// Correct floating-point error at exact bucket bounds.
	if upperBound(idx-1) >= v {
		idx--
	} else if upperBound(idx) < v {
		idx++
	}
	return idx
}

func upperBound(i int32) float64 { return math.Exp2(float64(i) / (1 << histogramSchema)) }

func (m *SpanMetrics) loop() {
	defer close(m.done)
	tick := time.NewTicker(m.interval)
	defer tick.Stop()
	for {
		select {
		case <-m.stop:
			m.flush()
			return
		case <-tick.C:
			m.flush()
		}
	}
}

// Flush writes every series' current values now.
func (m *SpanMetrics) Flush() { m.flush() }

func (m *SpanMetrics) flush() {
	now := m.now()
	ts := now.UnixMilli()
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, n := range m.folded {
		m.logger.Warn("span metrics: operations beyond traces.span_metrics_max_operations folded into span_name=\"other\"",
			"tenant_service", key, "spans", n, "limit", m.maxOperations)
	}
	clear(m.folded)
	for tenant, t := range m.tenants {
		if err := m.write(tenant, t, now, ts); err != nil {
			m.logger.Warn("span metrics not written", "tenant", tenant, "err", err)
		}
	}
}

func (m *SpanMetrics) write(tenant string, t *tenantSpanMetrics, now time.Time, ts int64) error {
	app, err := m.dst.Appender(context.Background(), tenant)
	if err != nil {
		return err
	}
	for k, s := range t.series {
		stale := now.Sub(s.updated) > m.idle
		v, h := s.calls, s.histogram()
		if stale {
			v, h = math.Float64frombits(value.StaleNaN), &histogram.Histogram{Sum: math.Float64frombits(value.StaleNaN)}
		}
		if s.ref, err = app.Append(s.ref, s.lbls, 0, ts, v, nil, nil, storage.AOptions{}); err != nil {
			s.ref = 0
			m.logger.Debug("span metric sample refused", "series", s.lbls.String(), "err", err)
		}
		if s.histRef, err = app.Append(s.histRef, s.histLbls, 0, ts, 0, h, nil, storage.AOptions{}); err != nil {
			s.histRef = 0
			m.logger.Debug("span metric sample refused", "series", s.histLbls.String(), "err", err)
		}
		if stale {
			delete(t.series, k)
			if ops := t.ops[k.service]; ops != nil && !t.hasOperation(k.service, k.name) {
				delete(ops, k.name)
			}
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// hasOperation reports whether any live series still uses the operation.
func (t *tenantSpanMetrics) hasOperation(service, name string) bool {
	for k := range t.series {
		if k.service == service && k.name == name {
			return true
		}
	}
	return false
}

// histogram is the series' cumulative native histogram.
func (s *redSeries) histogram() *histogram.Histogram {
	idx := make([]int32, 0, len(s.buckets))
	for i := range s.buckets {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	h := &histogram.Histogram{
		Schema: histogramSchema, ZeroThreshold: 0, ZeroCount: s.zero,
		Count: uint64(s.calls), Sum: s.sum,
	}
	var prev int64
	for j, i := range idx {
		if j == 0 || i != idx[j-1]+1 {
			h.PositiveSpans = append(h.PositiveSpans, histogram.Span{Offset: gap(idx, j), Length: 0})
		}
		h.PositiveSpans[len(h.PositiveSpans)-1].Length++
		c := int64(s.buckets[i])
		h.PositiveBuckets = append(h.PositiveBuckets, c-prev)
		prev = c
	}
	return h
}

// gap is the offset of the span starting at idx[j]: from 0 for the first,
// else from the end of the previous span.
func gap(idx []int32, j int) int32 {
	if j == 0 {
		return idx[0]
	}
	return idx[j] - idx[j-1] - 1
}

// Close writes the last values and stops the flush loop.
func (m *SpanMetrics) Close() {
	close(m.stop)
	<-m.done
}
