package metricfilter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/metrics"
)

const errorsSeries = `{__name__="api_errors", log_group="api", metric_filter="errors", namespace="Shop"}`

func TestLiteralValuesSumPerMinuteWithDefault(t *testing.T) {
	f := newFixture(t)
	f.put(t, "acme", filter("errors", "api", "ERROR", Transformation{MetricName: "api_errors", MetricNamespace: "Shop", MetricValue: "1", DefaultValue: ptr(0.0)}))
	m0, m1 := f.t0, f.t0.Add(time.Minute)
	f.applier.Observe("acme", []eventstore.Record{
		rec("api", m0.Add(5*time.Second), "ERROR payment failed"),
		rec("api", m0.Add(9*time.Second), "ERROR db timeout"),
		rec("api", m0.Add(20*time.Second), "INFO ok"),
		rec("web", m0.Add(20*time.Second), "ERROR not this group"),
		rec("api", m1.Add(1*time.Second), "INFO ok"),
	})
	f.applier.Observe("other", []eventstore.Record{rec("api", m0, "ERROR other tenant, no filters")})

	f.clock.Set(m1.Add(30 * time.Second))
	f.applier.FlushClosed(context.Background())
	if got := f.db.get("acme", errorsSeries); len(got) != 1 || got[0] != (point{minute(m0), 2}) {
		t.Errorf("after minute 0 closed: %v, want 2 at %d\n%s", got, minute(m0), f.db.all())
	}
	f.clock.Set(m1.Add(time.Minute + 4*time.Second)) // minute 1 ended, its grace not yet
	f.applier.FlushClosed(context.Background())
	if got := f.db.get("acme", errorsSeries); len(got) != 1 {
		t.Errorf("minute 1 written within its grace: %v", got)
	}
	f.clock.Set(m1.Add(time.Minute + 5*time.Second))
	f.applier.FlushClosed(context.Background())
	if got := f.db.get("acme", errorsSeries); len(got) != 2 || got[1] != (point{minute(m1), 0}) {
		t.Errorf("minute 1 (no match, one record): %v, want the default 0", got)
	}
	if all := f.db.all(); len(f.db.samples) != 1 {
		t.Errorf("other series written:\n%s", all)
	}
	if n := testutil.ToFloat64(f.applier.matched.WithLabelValues("acme")); n != 2 {
		t.Errorf("matched records %v, want 2", n)
	}
	if n := testutil.ToFloat64(f.applier.written); n != 2 {
		t.Errorf("samples written %v, want 2", n)
	}
}

func TestValuesAndDimensionsFromFields(t *testing.T) {
	f := newFixture(t)
	// A JSON pattern reads NDJSON-ingested records (fields as attributes)
	// and JSON messages alike.
	f.put(t, "acme", filter("latency", "api", `{ $.status = 200 }`, Transformation{
		MetricName: "api_latency_ms", MetricNamespace: "Shop", MetricValue: "$.latency", Dimensions: map[string]string{"route": "$.route"},
	}))
	f.put(t, "acme", filter("bytes", "nginx", `[ip, user, ts, request, status=2*, bytes]`, Transformation{
		MetricName: "nginx_bytes", MetricNamespace: "Web", MetricValue: "$bytes", Dimensions: map[string]string{"status": "$status"},
	}))
	m0 := f.t0
	f.applier.Observe("acme", []eventstore.Record{
		rec("api", m0.Add(time.Second), "served", "status", "200", "latency", "120", "route", "/cart"),
		rec("api", m0.Add(2*time.Second), `{"status":200,"latency":30.5,"route":"/cart"}`),
		rec("api", m0.Add(3*time.Second), `{"status":200,"latency":7,"route":"/pay"}`),
		rec("api", m0.Add(4*time.Second), `{"status":500,"latency":999,"route":"/pay"}`),   // no match
		rec("api", m0.Add(5*time.Second), `{"status":200,"latency":"n/a","route":"/pay"}`), // not a number: skipped
		rec("api", m0.Add(6*time.Second), `{"status":200,"route":"/pay"}`),                 // no value: skipped
		rec("api", m0.Add(7*time.Second), `{"status":200,"latency":1}`),                    // no route: no label
		rec("api", m0.Add(8*time.Second), `{"status":200,"latency":2,"route":""}`),         // empty route: no label either
		rec("nginx", m0.Add(time.Second), `10.0.0.1 - [22/Nov/2026] "GET /" 200 512`),
		rec("nginx", m0.Add(2*time.Second), `10.0.0.2 - [22/Nov/2026] "GET /a" 204 1024`),
		rec("nginx", m0.Add(3*time.Second), `10.0.0.3 - [22/Nov/2026] "GET /b" 404 10`),
	})
	f.clock.Set(m0.Add(2 * time.Minute))
	f.applier.FlushClosed(context.Background())
	for series, want := range map[string]float64{
		`{__name__="api_latency_ms", log_group="api", metric_filter="latency", namespace="Shop", route="/cart"}`: 150.5,
		`{__name__="api_latency_ms", log_group="api", metric_filter="latency", namespace="Shop", route="/pay"}`:  7,
		`{__name__="api_latency_ms", log_group="api", metric_filter="latency", namespace="Shop"}`:                3,
		`{__name__="nginx_bytes", log_group="nginx", metric_filter="bytes", namespace="Web", status="200"}`:      512,
		`{__name__="nginx_bytes", log_group="nginx", metric_filter="bytes", namespace="Web", status="204"}`:      1024,
	} {
		if got := f.db.get("acme", series); len(got) != 1 || got[0] != (point{minute(m0), want}) {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if len(f.db.samples) != 5 {
		t.Errorf("series written:\n%s", f.db.all())
	}
	if n := testutil.ToFloat64(f.applier.dropped.WithLabelValues("not_a_number")); n != 2 {
		t.Errorf("dropped as not a number: %v, want 2", n)
	}
}

func TestLateRecords(t *testing.T) {
	f := newFixture(t)
	f.put(t, "acme", filter("hits", "g", `[host, verb]`, Transformation{MetricName: "hits", MetricNamespace: "X", MetricValue: "1", Dimensions: map[string]string{"host": "$host"}}))
	series := func(host string) string {
		return `{__name__="hits", host="` + host + `", log_group="g", metric_filter="hits", namespace="X"}`
	}
	m0, m1, m2 := f.t0, f.t0.Add(time.Minute), f.t0.Add(2*time.Minute)
	f.applier.Observe("acme", []eventstore.Record{rec("g", m0.Add(time.Second), "a GET")})
	f.clock.Set(m1.Add(10 * time.Second))
	f.applier.FlushClosed(context.Background()) // a's minute 0 is written

	f.applier.Observe("acme", []eventstore.Record{
		rec("g", m0.Add(2*time.Second), "a GET"),  // a's minute 0 is written: counts in minute 1
		rec("g", m1.Add(3*time.Second), "a PUT"),  // minute 1
		rec("g", m0.Add(30*time.Second), "b GET"), // b has written nothing: keeps minute 0
	})
	f.applier.FlushClosed(context.Background())
	if got := f.db.get("acme", series("b")); len(got) != 1 || got[0] != (point{minute(m0), 1}) {
		t.Errorf("b: %v, want 1 in minute 0, written at the next flush though the minute closed before", got)
	}
	if got := f.db.get("acme", series("a")); len(got) != 1 {
		t.Errorf("a: %v, minute 1 written before it closed", got)
	}
	f.clock.Set(m2.Add(5 * time.Second))
	f.applier.FlushClosed(context.Background())
	if got, want := f.db.get("acme", series("a")), []point{{minute(m0), 1}, {minute(m1), 2}}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("a: %v, want %v (the late record in minute 1)", got, want)
	}
	if n := testutil.ToFloat64(f.applier.dropped.WithLabelValues("refused")); n != 0 {
		t.Errorf("%v samples refused: a series was written out of order", n)
	}
}

func TestRunWritesEachMinuteAfterItsGraceAndAllWhenStopped(t *testing.T) {
	f := newFixture(t, func(o *ApplierOptions) { o.Tick = 10 * time.Millisecond })
	f.put(t, "acme", filter("errors", "api", "ERROR", Transformation{MetricName: "api_errors", MetricNamespace: "Shop", MetricValue: "1"}))
	m0, m1 := f.t0, f.t0.Add(time.Minute)
	f.clock.Set(m1.Add(10 * time.Second))
	f.applier.Observe("acme", []eventstore.Record{
		rec("api", m0.Add(time.Second), "ERROR a"),
		rec("api", m1.Add(time.Second), "ERROR b"),
		rec("api", m1.Add(2*time.Second), "ERROR c"),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.applier.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(f.db.get("acme", errorsSeries)) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := f.db.get("acme", errorsSeries); len(got) != 1 || got[0] != (point{minute(m0), 1}) {
		t.Fatalf("while running: %v, want minute 0 only", got)
	}
	cancel()
	<-done
	if got := f.db.get("acme", errorsSeries); len(got) != 2 || got[1] != (point{minute(m1), 2}) {
		t.Errorf("after stopping: %v, want the open minute 1 written too", got)
	}
}

func TestSeriesPerFilterAreLimitedPerHour(t *testing.T) {
	f := newFixture(t, func(o *ApplierOptions) { o.MaxSeriesPerFilter = 2 })
	f.put(t, "acme", filter("hits", "g", `[host]`, Transformation{MetricName: "hits", MetricNamespace: "X", MetricValue: "1", Dimensions: map[string]string{"host": "$host"}}))
	f.put(t, "acme", filter("all", "g", ``, Transformation{MetricName: "records", MetricNamespace: "X", MetricValue: "1"}))
	observe := func(at time.Time, hosts ...string) {
		var recs []eventstore.Record
		for _, h := range hosts {
			recs = append(recs, rec("g", at, h))
		}
		f.applier.Observe("acme", recs)
	}
	observe(f.t0, "a", "b", "c", "c", "a")
	if n := testutil.ToFloat64(f.applier.dropped.WithLabelValues("too_many_series")); n != 2 {
		t.Errorf("dropped %v records, want 2 (host c)", n)
	}
	f.clock.Set(f.t0.Add(time.Hour).Truncate(time.Hour).Add(time.Minute)) // the next hour
	observe(f.clock.Now(), "c")
	f.applier.FlushAll(context.Background())
	for host, want := range map[string]int{"a": 1, "b": 1, "c": 1} {
		got := f.db.get("acme", `{__name__="hits", host="`+host+`", log_group="g", metric_filter="hits", namespace="X"}`)
		if len(got) != want {
			t.Errorf("host %s: %v, want %d sample(s)", host, got, want)
		}
	}
	if got := f.db.get("acme", `{__name__="records", log_group="g", metric_filter="all", namespace="X"}`); len(got) != 2 || got[0].V != 5 {
		t.Errorf("the other filter of the group is not limited: %v", got)
	}
}

func TestTenantsAreIsolated(t *testing.T) {
	f := newFixture(t)
	tr := Transformation{MetricName: "api_errors", MetricNamespace: "Shop", MetricValue: "1"}
	f.put(t, "acme", filter("errors", "api", "ERROR", tr))
	f.put(t, "other", filter("errors", "api", "WARN", tr))
	recs := func() []eventstore.Record {
		return []eventstore.Record{rec("api", f.t0, "ERROR x"), rec("api", f.t0, "WARN y"), rec("api", f.t0, "WARN z")}
	}
	f.applier.Observe("acme", recs())
	f.applier.Observe("other", recs())
	f.applier.FlushAll(context.Background())
	if a, o := f.db.get("acme", errorsSeries), f.db.get("other", errorsSeries); len(a) != 1 || a[0].V != 1 || len(o) != 1 || o[0].V != 2 {
		t.Errorf("acme %v (want 1), other %v (want 2)", a, o)
	}
}

func TestWriteFailuresAreCounted(t *testing.T) {
	f := newFixture(t)
	f.put(t, "acme", filter("errors", "api", "ERROR", Transformation{MetricName: "api_errors", MetricNamespace: "Shop", MetricValue: "1"}))
	f.applier.Observe("acme", []eventstore.Record{rec("api", f.t0, "ERROR x")})
	f.db.fail = errors.New("tsdb closed")
	f.applier.FlushAll(context.Background())
	if n := testutil.ToFloat64(f.applier.dropped.WithLabelValues("write_failed")); n != 1 {
		t.Errorf("write_failed %v, want 1", n)
	}
}

func TestIdleSeriesAreForgotten(t *testing.T) {
	f := newFixture(t)
	f.put(t, "acme", filter("errors", "api", "ERROR", Transformation{MetricName: "api_errors", MetricNamespace: "Shop", MetricValue: "1"}))
	f.applier.Observe("acme", []eventstore.Record{rec("api", f.t0, "ERROR x")})
	f.clock.Set(f.t0.Add(2 * time.Minute))
	f.applier.FlushClosed(context.Background())
	if n := testutil.ToFloat64(f.applier.openSeries); n != 1 {
		t.Errorf("series held after a write: %v, want 1 (it stays for an hour)", n)
	}
	f.clock.Set(f.t0.Add(2 * time.Hour))
	f.applier.FlushClosed(context.Background())
	if n := testutil.ToFloat64(f.applier.openSeries); n != 0 || len(f.applier.usage) != 0 {
		t.Errorf("series held after two idle hours: %v (usage %v)", n, f.applier.usage)
	}
}

// The samples land in the real TSDB where an alarm's query finds them: a
// one-minute range ending at a minute's end holds that minute's sum.
func TestSumsAreWhereARangeEndingAtTheMinuteFindsThem(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	eng, err := metrics.Open(context.Background(), metrics.Options{Dir: dir, RetentionTime: 24 * time.Hour,
		QueryTimeout: time.Minute, QueryMaxSamples: 1e6, QueryMaxConcurrency: 2, LookbackDelta: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	f.applier.opts.Appender = eng.Appender
	f.put(t, "acme", filter("errors", "api", "ERROR", Transformation{MetricName: "api_errors", MetricNamespace: "Shop", MetricValue: "1"}))
	m0, m1 := f.t0, f.t0.Add(time.Minute)
	f.applier.Observe("acme", []eventstore.Record{
		rec("api", m0, "ERROR a"), rec("api", m0.Add(59*time.Second), "ERROR b"), rec("api", m0.Add(30*time.Second), "ERROR c"),
		rec("api", m1, "ERROR d"),
	})
	f.clock.Set(m1.Add(time.Minute + 5*time.Second))
	f.applier.FlushClosed(context.Background())
	mx, err := eng.QueryRange(context.Background(), "acme", `sum(sum_over_time(api_errors{namespace="Shop"}[1m]))`, m0, m1.Add(time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	for _, s := range mx {
		for _, p := range s.Floats {
			got = append(got, p.F)
		}
	}
	if len(got) != 2 || got[0] != 3 || got[1] != 1 {
		t.Errorf("sum over the minutes ending at %s and %s: %v, want [3 1]", m1.Format(time.TimeOnly), m1.Add(time.Minute).Format(time.TimeOnly), got)
	}
}

// Ingest, writes and filter changes run at once; every matching record is
// counted exactly once (run with -race).
func TestConcurrentIngestFlushesAndFilterWrites(t *testing.T) {
	f := newFixture(t)
	f.put(t, "acme", filter("all", "g", "", Transformation{MetricName: "records", MetricNamespace: "X", MetricValue: "1"}))
	f.clock.Set(f.t0.Add(30 * time.Minute))
	const writers, batches, perBatch = 4, 50, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				recs := make([]eventstore.Record, perBatch)
				for i := range recs {
					recs[i] = rec("g", f.t0.Add(time.Duration(b%10)*time.Minute), fmt.Sprint("w", w))
				}
				f.applier.Observe("acme", recs)
			}
		}()
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(2)
	go func() {
		defer bg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := f.store.Put(context.Background(), "acme", filter(fmt.Sprint("other", i%3), "g", "never matches", Transformation{MetricName: "never", MetricNamespace: "X", MetricValue: "1"})); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				f.applier.FlushClosed(context.Background())
			}
		}
	}()
	wg.Wait()
	close(stop)
	bg.Wait()
	f.applier.FlushAll(context.Background())
	total := 0.0
	for _, p := range f.db.get("acme", `{__name__="records", log_group="g", metric_filter="all", namespace="X"}`) {
		total += p.V
	}
	if want := float64(writers * batches * perBatch); total != want {
		t.Errorf("counted %v records, want %v", total, want)
	}
	if n := testutil.ToFloat64(f.applier.dropped.WithLabelValues("refused")); n != 0 {
		t.Errorf("%v samples refused", n)
	}
}
