package metricfilter

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/metrics"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type fixture struct {
	store   *Store
	applier *Applier
	engine  *metrics.Engine
	clock   *clock
	t0      time.Time // a minute boundary, ten minutes ago
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	m, err := meta.Open(ctx, meta.Options{DSN: filepath.Join(dir, "meta.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	for _, id := range []string{"acme", "other"} {
		if _, err := m.DB().Exec(`INSERT INTO tenants (id, created_at) VALUES ($1, 1)`, id); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := metrics.Open(ctx, metrics.Options{Dir: filepath.Join(dir, "tsdb"), RetentionTime: 24 * time.Hour, OutOfOrderWindow: time.Hour,
		QueryTimeout: time.Minute, QueryMaxSamples: 1e6, QueryMaxConcurrency: 2, LookbackDelta: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	t0 := time.Now().Truncate(time.Minute).Add(-10 * time.Minute)
	f := &fixture{store: NewStore(m.DB()), engine: eng, clock: &clock{t: t0}, t0: t0}
	f.applier = NewApplier(ApplierOptions{Store: f.store, Appender: eng.Appender, Now: f.clock.Now})
	return f
}

func rec(group string, at time.Time, body string, attrs ...string) eventstore.Record {
	r := eventstore.Record{Time: at.UnixNano(), Group: group, Body: body}
	for i := 0; i+1 < len(attrs); i += 2 {
		v := eventstore.StringValue(attrs[i+1])
		if n, err := strconv.ParseInt(attrs[i+1], 10, 64); err == nil { // as NDJSON ingest types numbers
			v = eventstore.Value{Kind: eventstore.KindInt, Int: n}
		}
		r.Attributes = append(r.Attributes, eventstore.Attr{Key: attrs[i], Value: v})
	}
	return r
}

// values returns each series' value per minute, by series text.
func (f *fixture) values(t *testing.T, tenant, expr string) map[string][]float64 {
	t.Helper()
	mx, err := f.engine.QueryRange(context.Background(), tenant, expr, f.t0, f.t0.Add(10*time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for _, s := range mx {
		for _, p := range s.Floats {
			out[s.Metric.String()] = append(out[s.Metric.String()], p.F)
		}
	}
	return out
}

func ptr(v float64) *float64 { return &v }

func TestLiteralValuesSumPerMinuteWithDefault(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	err := f.store.Put(ctx, "acme", Filter{Name: "errors", LogGroup: "api", Pattern: "ERROR",
		Transformations: []Transformation{{MetricName: "api_errors", MetricNamespace: "Shop", MetricValue: "1", DefaultValue: ptr(0)}}})
	if err != nil {
		t.Fatal(err)
	}
	m0, m1 := f.t0, f.t0.Add(time.Minute)
	f.applier.Observe("acme", []eventstore.Record{
		rec("api", m0.Add(5*time.Second), "ERROR payment failed"),
		rec("api", m0.Add(9*time.Second), "ERROR db timeout"),
		rec("api", m0.Add(20*time.Second), "INFO ok"),
		rec("web", m0.Add(20*time.Second), "ERROR not this group"),
		rec("api", m1.Add(1*time.Second), "INFO ok"),
	})
	f.applier.Observe("other", []eventstore.Record{rec("api", m0, "ERROR other tenant, no filters")})
	f.clock.Set(m1.Add(time.Minute + 6*time.Second)) // both minutes closed and past the grace
	f.applier.Flush(ctx, false)
	got := f.values(t, "acme", `api_errors`)
	want := `{__name__="api_errors", log_group="api", metric_filter="errors", namespace="Shop"}`
	if len(got) != 1 || len(got[want]) < 2 || got[want][0] != 2 || got[want][1] != 0 {
		t.Errorf("series %v, want %s = 2 then 0 (the default for a minute without matches)", got, want)
	}
	if other := f.values(t, "other", `api_errors`); len(other) != 0 {
		t.Errorf("tenant other got %v", other)
	}
}

func TestValuesAndDimensionsFromFields(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// JSON pattern over NDJSON-ingested records (fields as attributes) and
	// over JSON messages.
	if err := f.store.Put(ctx, "acme", Filter{Name: "latency", LogGroup: "api", Pattern: `{ $.status = 200 }`,
		Transformations: []Transformation{{MetricName: "api_latency_ms", MetricNamespace: "Shop", MetricValue: "$.latency", Dimensions: map[string]string{"route": "$.route"}}}}); err != nil {
		t.Fatal(err)
	}
	// Space-delimited pattern.
	if err := f.store.Put(ctx, "acme", Filter{Name: "bytes", LogGroup: "nginx", Pattern: `[ip, user, ts, request, status=200, bytes]`,
		Transformations: []Transformation{{MetricName: "nginx_bytes", MetricNamespace: "Web", MetricValue: "$bytes", Dimensions: map[string]string{"status": "$status"}}}}); err != nil {
		t.Fatal(err)
	}
	m0 := f.t0
	f.applier.Observe("acme", []eventstore.Record{
		rec("api", m0.Add(time.Second), "served", "status", "200", "latency", "120", "route", "/cart"),
		rec("api", m0.Add(2*time.Second), `{"status":200,"latency":30,"route":"/cart"}`),
		rec("api", m0.Add(3*time.Second), `{"status":200,"latency":7,"route":"/pay"}`),
		rec("api", m0.Add(4*time.Second), `{"status":500,"latency":999,"route":"/pay"}`),
		rec("api", m0.Add(5*time.Second), `{"status":200,"latency":"n/a","route":"/pay"}`), // not a number: skipped
		rec("nginx", m0.Add(time.Second), `10.0.0.1 - [22/Nov/2026] "GET /" 200 512`),
		rec("nginx", m0.Add(2*time.Second), `10.0.0.2 - [22/Nov/2026] "GET /a" 200 1024`),
		rec("nginx", m0.Add(3*time.Second), `10.0.0.3 - [22/Nov/2026] "GET /b" 404 10`),
	})
	f.clock.Set(m0.Add(2 * time.Minute))
	f.applier.Flush(ctx, false)
	got := f.values(t, "acme", `{__name__=~"api_latency_ms|nginx_bytes"}`)
	for series, want := range map[string]float64{
		`{__name__="api_latency_ms", log_group="api", metric_filter="latency", namespace="Shop", route="/cart"}`: 150,
		`{__name__="api_latency_ms", log_group="api", metric_filter="latency", namespace="Shop", route="/pay"}`:  7,
		`{__name__="nginx_bytes", log_group="nginx", metric_filter="bytes", namespace="Web", status="200"}`:      1536,
	} {
		if len(got[series]) == 0 || got[series][0] != want {
			t.Errorf("%s = %v, want %v (all: %v)", series, got[series], want, got)
		}
	}
}

func TestLateRecordsAndCloseFlushEverything(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.store.Put(ctx, "acme", Filter{Name: "n", LogGroup: "g", Pattern: "", Transformations: []Transformation{{MetricName: "records", MetricNamespace: "X", MetricValue: "1"}}}); err != nil {
		t.Fatal(err)
	}
	m0 := f.t0
	f.applier.Observe("acme", []eventstore.Record{rec("g", m0.Add(time.Second), "a")})
	f.clock.Set(m0.Add(time.Minute + 10*time.Second))
	f.applier.Flush(ctx, false)
	// A record for the minute already written counts in the open one.
	f.applier.Observe("acme", []eventstore.Record{rec("g", m0.Add(2*time.Second), "late"), rec("g", m0.Add(time.Minute+3*time.Second), "b")})
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { f.applier.Run(cctx); close(done) }()
	cancel()
	<-done // Run writes what it holds when it stops
	got := f.values(t, "acme", "records")
	s := `{__name__="records", log_group="g", metric_filter="n", namespace="X"}`
	if len(got[s]) < 2 || got[s][0] != 1 || got[s][1] != 2 {
		t.Errorf("%v, want 1 in the first minute and 2 (one late) in the second", got[s])
	}
}

func TestValidationNamesTheField(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		f    Filter
		want string
	}{
		{Filter{Name: "x", LogGroup: "g", Pattern: `{ $.a = `, Transformations: []Transformation{{MetricName: "m", MetricNamespace: "N", MetricValue: "1"}}}, "filterPattern"},
		{Filter{Name: "x", LogGroup: "g", Pattern: "ERROR"}, "exactly one"},
		{Filter{Name: "x", LogGroup: "g", Pattern: "ERROR", Transformations: []Transformation{{MetricName: "bad-name", MetricNamespace: "N", MetricValue: "1"}}}, "metricName"},
		{Filter{Name: "x", LogGroup: "g", Pattern: "ERROR", Transformations: []Transformation{{MetricName: "m", MetricNamespace: "N", MetricValue: "$.latency"}}}, "not a JSON pattern"},
		{Filter{Name: "x", LogGroup: "g", Pattern: `{ $.a = 1 }`, Transformations: []Transformation{{MetricName: "m", MetricNamespace: "N", MetricValue: "1", DefaultValue: ptr(0), Dimensions: map[string]string{"a": "$.a"}}}}, "defaultValue cannot be combined"},
		{Filter{Name: "x", LogGroup: "g", Pattern: `{ $.a = 1 }`, Transformations: []Transformation{{MetricName: "m", MetricNamespace: "N", MetricValue: "lots"}}}, "metricValue"},
		{Filter{Name: "a:b", LogGroup: "g", Pattern: "", Transformations: []Transformation{{MetricName: "m", MetricNamespace: "N", MetricValue: "1"}}}, "filterName"},
	} {
		err := f.store.Put(context.Background(), "acme", c.f)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error about %s", c.f, err, c.want)
		}
	}
	if err := f.store.Delete(context.Background(), "acme", "g", "nope"); !IsNotFound(err) {
		t.Errorf("delete unknown: %v", err)
	}
}

func TestStoreCacheFollowsWrites(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mk := func(pattern string) Filter {
		return Filter{Name: "n", LogGroup: "g", Pattern: pattern, Transformations: []Transformation{{MetricName: "hits", MetricNamespace: "X", MetricValue: "1"}}}
	}
	if err := f.store.Put(ctx, "acme", mk("alpha")); err != nil {
		t.Fatal(err)
	}
	if fs, _ := f.store.filters("acme", "g"); len(fs) != 1 || fs[0].Pattern != "alpha" {
		t.Fatalf("cached %v", fs)
	}
	if err := f.store.Put(ctx, "acme", mk("beta")); err != nil {
		t.Fatal(err)
	}
	if fs, _ := f.store.filters("acme", "g"); len(fs) != 1 || fs[0].Pattern != "beta" {
		t.Errorf("after replacing: %v", fs)
	}
	if err := f.store.Delete(ctx, "acme", "g", "n"); err != nil {
		t.Fatal(err)
	}
	if fs, _ := f.store.filters("acme", "g"); len(fs) != 0 {
		t.Errorf("after deleting: %v", fs)
	}
}

func TestTestPatternReportsMatchesAndFields(t *testing.T) {
	ms, err := TestPattern(`[ip, user, ts, request, status=4*, bytes]`, []string{
		`10.0.0.1 - [x] "GET /" 200 512`, `10.0.0.2 - [x] "GET /a" 404 10`,
	})
	if err != nil || len(ms) != 1 || ms[0].EventNumber != 2 || ms[0].ExtractedValues["$status"] != "404" || ms[0].ExtractedValues["$bytes"] != "10" {
		t.Errorf("%v %+v", err, ms)
	}
	if _, err := TestPattern("ERROR", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("no messages: %v", err)
	}
}
