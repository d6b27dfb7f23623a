package traces

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/eventstore/wal"
	"github.com/miradorhq/mirador/internal/ingest/otlp"
	"github.com/miradorhq/mirador/internal/tenant"
)

// benchSpans is the data set size of the lookup benchmarks; set
// MIRADOR_BENCH_SPANS=10000000 for the 10M figures.
func benchSpans() int {
	if n, err := strconv.Atoi(os.Getenv("MIRADOR_BENCH_SPANS")); err == nil && n > 0 {
		return n
	}
	return 500_000
}

// shop is the synthetic system traces are drawn from: a frontend calls a
// gateway, which calls services, which call each other, databases, a
// queue and a payment provider.
var shop = struct {
	services []string
	ops      map[string][]string
	dbs      map[string][2]string // service → db.system, db.name
}{
	services: []string{"frontend", "api-gateway", "checkout", "catalog", "cart", "user", "payment", "shipping", "recommendation", "search"},
	ops: map[string][]string{
		"frontend":       {"GET /", "GET /product/{id}", "POST /cart", "POST /checkout"},
		"api-gateway":    {"GET /api/products/{id}", "POST /api/cart/items", "POST /api/orders", "GET /api/search"},
		"checkout":       {"PlaceOrder", "ValidateCart"},
		"catalog":        {"GetProduct", "ListProducts"},
		"cart":           {"AddItem", "GetCart", "EmptyCart"},
		"user":           {"GetUser", "Authenticate"},
		"payment":        {"Charge", "Refund"},
		"shipping":       {"GetQuote", "ShipOrder"},
		"recommendation": {"ListRecommendations"},
		"search":         {"Query"},
	},
	dbs: map[string][2]string{
		"catalog": {"postgresql", "catalog"}, "cart": {"redis", "cart-cache"}, "user": {"postgresql", "users"},
		"checkout": {"postgresql", "orders"}, "search": {"elasticsearch", "products"}, "recommendation": {"mongodb", "recs"},
	},
}

// traceGen makes realistic traces: 5–50 spans over 3–10 services, client
// and server span pairs with network time, database and queue calls,
// 5–15 attributes, about 3 % failing.
type traceGen struct {
	rng   *rand.Rand
	t     time.Time
	every time.Duration
	n     int
}

func newTraceGen(seed uint64, start time.Time, every time.Duration) *traceGen {
	return &traceGen{rng: rand.New(rand.NewPCG(seed, 7)), t: start, every: every}
}

func (g *traceGen) id8() (b [8]byte) {
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	return b
}

func (g *traceGen) dur(mean float64) int64 {
	return int64(math.Exp(g.rng.NormFloat64()*0.6+math.Log(mean)) * float64(time.Millisecond))
}

func (g *traceGen) next() []eventstore.Record {
	g.n++
	g.t = g.t.Add(g.every)
	var tid [16]byte
	for i := range tid {
		tid[i] = byte(g.rng.Uint32())
	}
	fail := g.rng.IntN(33) == 0
	var spans []eventstore.Record
	target := 5 + g.rng.IntN(46)
	var visit func(service string, parent [8]byte, start int64, budget int64, depth int) int64
	span := func(service, name string, kind int8, parent [8]byte, start, dur int64, attrs ...eventstore.Attr) *eventstore.Record {
		host := fmt.Sprintf("%s-%d", service, g.rng.IntN(4))
		spans = append(spans, eventstore.Record{
			Time: start, ObservedTime: start + dur, Group: service, Stream: service + "/" + host,
			TraceID: tid, SpanID: g.id8(), ParentSpanID: parent, Name: name, Kind: kind, Duration: dur,
			Attributes: append(attrs,
				eventstore.Attr{Key: "app.request.id", Value: eventstore.StringValue(fmt.Sprintf("%016x", g.rng.Uint64()))},
				eventstore.Attr{Key: "app.customer.tier", Value: eventstore.StringValue([]string{"free", "pro", "gold", "enterprise"}[g.rng.IntN(4)])},
				eventstore.Attr{Key: "thread.id", Value: eventstore.IntValue(int64(g.rng.IntN(64)))},
			),
			Resource: []eventstore.Attr{
				{Key: "service.name", Value: eventstore.StringValue(service)},
				{Key: "service.version", Value: eventstore.StringValue("1.4." + strconv.Itoa(len(service)%7))},
				{Key: "host.name", Value: eventstore.StringValue(host)},
				{Key: "deployment.environment", Value: eventstore.StringValue("prod")},
			},
		})
		return &spans[len(spans)-1]
	}
	visit = func(service string, parent [8]byte, start, budget int64, depth int) int64 {
		ops := shop.ops[service]
		srv := span(service, ops[g.rng.IntN(len(ops))], KindServer, parent, start, budget,
			eventstore.Attr{Key: "http.request.method", Value: eventstore.StringValue("POST")},
			eventstore.Attr{Key: "http.response.status_code", Value: eventstore.IntValue(200)},
			eventstore.Attr{Key: "app.cart.items", Value: eventstore.IntValue(int64(g.rng.IntN(12)))})
		me, at := srv.SpanID, start+budget/10
		if db, ok := shop.dbs[service]; ok && len(spans) < target {
			d := g.dur(4)
			span(service, "SELECT "+db[1], KindClient, me, at, d,
				eventstore.Attr{Key: "db.system", Value: eventstore.StringValue(db[0])},
				eventstore.Attr{Key: "db.name", Value: eventstore.StringValue(db[1])},
				eventstore.Attr{Key: "db.statement", Value: eventstore.StringValue("SELECT * FROM " + db[1] + " WHERE id = $1")},
				eventstore.Attr{Key: "server.address", Value: eventstore.StringValue(db[1] + "-db")})
			at += d
		}
		if service == "payment" && len(spans) < target {
			d := g.dur(120)
			span(service, "POST /v1/charges", KindClient, me, at, d, eventstore.Attr{Key: "server.address", Value: eventstore.StringValue("api.stripe.com")})
			at += d
		}
		for depth < 4 && len(spans)+2 <= target && g.rng.IntN(4) != 0 {
			callee := shop.services[2+g.rng.IntN(len(shop.services)-2)]
			if callee == service {
				continue
			}
			d := g.dur(15)
			cl := span(service, "call "+callee, KindClient, me, at, d+2*int64(time.Millisecond), eventstore.Attr{Key: "peer.service", Value: eventstore.StringValue(callee)})
			visit(callee, cl.SpanID, at+int64(time.Millisecond), d, depth+1)
			at += d + 2*int64(time.Millisecond)
		}
		if at > start+budget {
			srv.Duration = at - start + int64(time.Millisecond)
		}
		return srv.Duration
	}
	root := span("frontend", shop.ops["frontend"][g.rng.IntN(4)], KindServer, [8]byte{}, g.t.UnixNano(), 0)
	rootID := root.SpanID
	d := visit("api-gateway", rootID, g.t.UnixNano()+int64(time.Millisecond), g.dur(40), 0)
	spans[0].Duration = d + 2*int64(time.Millisecond)
	for len(spans) < 5 {
		span("frontend", "render", KindInternal, rootID, g.t.UnixNano(), g.dur(2))
	}
	if fail {
		i := len(spans) - 1 - g.rng.IntN(len(spans))
		for {
			spans[i].StatusCode, spans[i].StatusMessage = StatusError, "upstream failed"
			if spans[i].ParentSpanID == ([8]byte{}) {
				break
			}
			i = slices.IndexFunc(spans, func(r eventstore.Record) bool { return r.SpanID == spans[i].ParentSpanID })
		}
	}
	if g.n%100_000 == 0 {
		spans[len(spans)/2].Attributes = append(spans[len(spans)/2].Attributes, eventstore.Attr{Key: "app.needle", Value: eventstore.StringValue(fmt.Sprintf("needle-%d", g.n))})
	}
	return spans
}

// cpuSeconds is the process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// peakRSS is the process's peak resident memory in bytes.
func peakRSS() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) * 1024
}

// BenchmarkIngestOTLP measures OTLP/HTTP trace exports through the
// receiver's handler (protobuf decoding, conversion, validation, the WAL
// with an fsync before each acknowledgement, the head, flushes, span
// metrics), 8 concurrent exports of about 1,000 spans. TCP is left out.
func BenchmarkIngestOTLP(b *testing.B) {
	g := newTraceGen(1, time.Now().Add(-time.Hour), 10*time.Millisecond)
	var bodies [][]byte
	var spansPer []int
	for range 64 {
		var recs []eventstore.Record
		for len(recs) < 1000 {
			recs = append(recs, g.next()...)
		}
		body, err := ptraceotlp.NewExportRequestFromTraces(toOTLP(recs)).MarshalProto()
		if err != nil {
			b.Fatal(err)
		}
		bodies, spansPer = append(bodies, body), append(spansPer, len(recs))
	}
	store, err := eventstore.Open(context.Background(), eventstore.Options{Dir: b.TempDir(), Sync: wal.SyncAlways, CompactionInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	red := NewSpanMetrics(discard{}, time.Minute, 500, nil)
	defer red.Close()
	svc := New(Options{Store: store, SpanMetrics: red})
	h := otlp.NewReceiver(otlp.Options{Traces: otlp.TracesConsumerFunc(func(ctx context.Context, td ptrace.Traces) (otlp.Result, error) {
		_, err := svc.IngestOTLP(ctx, "t", td)
		return otlp.Result{}, err
	})}).TracesHandler()
	var next, spans atomic.Int64
	ctx := tenant.WithID(context.Background(), "t")
	b.ResetTimer()
	cpu0, t0 := cpuSeconds(), time.Now()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) % int64(len(bodies))
			req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/traces", bytes.NewReader(bodies[i]))
			req.Header.Set("Content-Type", "application/x-protobuf")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Errorf("export: %d %s", w.Code, w.Body)
				return
			}
			spans.Add(int64(spansPer[i]))
		}
	})
	elapsed, cpu := time.Since(t0).Seconds(), cpuSeconds()-cpu0
	b.ReportMetric(float64(spans.Load())/elapsed, "spans/s")
	b.ReportMetric(float64(spans.Load())/cpu, "spans/cpu-s")
	b.ReportMetric(peakRSS()/(1<<20), "peak-RSS-MiB")
}

type discard struct{}

func (discard) Appender(context.Context, string) (storage.AppenderV2, error) {
	return discardApp{}, nil
}

type discardApp struct{}

func (discardApp) Append(storage.SeriesRef, labels.Labels, int64, int64, float64, *histogram.Histogram, *histogram.FloatHistogram, storage.AOptions) (storage.SeriesRef, error) {
	return 1, nil
}
func (discardApp) Commit() error   { return nil }
func (discardApp) Rollback() error { return nil }

// benchData is a store of benchSpans() generated spans over the 24 hours
// before benchEnd, shared by the query benchmarks.
type benchData struct {
	svc       *Service
	ids       [][16]byte // a sample of the traces, with their span counts
	counts    []int
	needle    string // an attribute value on one span of one trace
	needleID  [16]byte
	bytesSpan float64
	spans     int
}

var (
	benchEnd  = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	dataOnce  sync.Once
	data      benchData
	benchRoot string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchRoot != "" {
		os.RemoveAll(benchRoot)
	}
	os.Exit(code)
}

func sharedData(b *testing.B) *benchData {
	dataOnce.Do(func() {
		var err error
		if benchRoot, err = os.MkdirTemp("", "traces-bench"); err != nil {
			b.Fatal(err)
		}
		store, err := eventstore.Open(context.Background(), eventstore.Options{Dir: benchRoot, Sync: wal.SyncNever, CompactionInterval: -1, HeadMaxBytes: 512 << 20})
		if err != nil {
			b.Fatal(err)
		}
		n := benchSpans()
		// The traces fill the 24 hours before benchEnd evenly.
		start := benchEnd.Add(-24 * time.Hour)
		g := newTraceGen(7, start, 0)
		var batch []eventstore.Record
		for data.spans < n {
			g.t = start.Add(time.Duration(float64(24*time.Hour) * float64(data.spans) / float64(n)))
			t := g.next()
			if g.n%101 == 0 {
				data.ids, data.counts = append(data.ids, t[0].TraceID), append(data.counts, len(t))
			}
			for _, r := range t {
				for _, a := range r.Attributes {
					if a.Key == "app.needle" {
						data.needle, data.needleID = a.Value.Str, r.TraceID
					}
				}
			}
			batch = append(batch, t...)
			data.spans += len(t)
			if len(batch) >= 10_000 {
				if err := store.Append(context.Background(), "t", eventstore.DatasetSpans, batch); err != nil {
					b.Fatal(err)
				}
				batch = nil
			}
		}
		if err := store.Append(context.Background(), "t", eventstore.DatasetSpans, batch); err != nil {
			b.Fatal(err)
		}
		if err := store.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		for range 8 {
			if err := store.Compact(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		var disk int64
		filepath.Walk(filepath.Join(benchRoot, "parts"), func(_ string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				disk += fi.Size()
			}
			return nil
		})
		data.bytesSpan = float64(disk) / float64(data.spans)
		data.svc = New(Options{Store: store})
	})
	return &data
}

// latencies runs fn b.N times and reports its p50 and p99.
func latencies(b *testing.B, fn func(i int)) {
	d := sharedData(b)
	b.ResetTimer()
	lat := make([]time.Duration, 0, b.N)
	for i := range b.N {
		t0 := time.Now()
		fn(i)
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[min(int(p*float64(len(lat))), len(lat)-1)]) / 1e6 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(d.bytesSpan, "disk-bytes/span")
	b.ReportMetric(float64(d.spans), "spans")
	b.ReportMetric(peakRSS()/(1<<20), "peak-RSS-MiB")
}

// BenchmarkTraceByID looks traces up by id with no time range.
func BenchmarkTraceByID(b *testing.B) {
	d := sharedData(b)
	latencies(b, func(i int) {
		k := (i * 7919) % len(d.ids)
		spans, err := d.svc.Trace(context.Background(), "t", d.ids[k])
		if err != nil || len(spans) != d.counts[k] {
			b.Fatalf("trace %x: %d spans (%v), want %d", d.ids[k], len(spans), err, d.counts[k])
		}
	})
}

func benchSearch(b *testing.B, span time.Duration, q SearchQuery, want int) {
	d := sharedData(b)
	q.Start, q.End = benchEnd.Add(-span), benchEnd
	latencies(b, func(int) {
		found, err := d.svc.Search(context.Background(), "t", q)
		if err != nil || want >= 0 && len(found) != want {
			b.Fatalf("search %+v: %d traces (%v), want %d", q, len(found), err, want)
		}
	})
}

// BenchmarkSearchRareAttribute finds the one trace with an attribute value
// (a full scan pruned by the blocks' bloom filters).
func BenchmarkSearchRareAttribute(b *testing.B) {
	d := sharedData(b)
	if d.needle == "" {
		b.Skip("fewer than 100,000 traces: no needle planted; raise MIRADOR_BENCH_SPANS")
	}
	cond := []Condition{{Key: "app.needle", Op: "=", Value: d.needle}}
	b.Run("24h", func(b *testing.B) { benchSearch(b, 24*time.Hour, SearchQuery{Conditions: cond}, 1) })
}

// BenchmarkSearchCommonAttribute finds the latest 20 traces with a
// frequent attribute value and a slow span.
func BenchmarkSearchCommonAttribute(b *testing.B) {
	q := SearchQuery{Service: "checkout", Conditions: []Condition{{Key: "app.customer.tier", Op: "=", Value: "gold"}}, MinDuration: 20 * time.Millisecond}
	b.Run("1h", func(b *testing.B) { benchSearch(b, time.Hour, q, 20) })
	b.Run("24h", func(b *testing.B) { benchSearch(b, 24*time.Hour, q, 20) })
}

// BenchmarkServiceMap builds the service map of the last hour.
func BenchmarkServiceMap(b *testing.B) {
	d := sharedData(b)
	latencies(b, func(int) {
		m, err := d.svc.ServiceMap(context.Background(), "t", benchEnd.Add(-time.Hour), benchEnd)
		if err != nil || len(m.Edges) < 10 {
			b.Fatalf("service map: %d edges (%v)", len(m.Edges), err)
		}
	})
}

// toOTLP converts span records back into OTLP, one ResourceSpans per
// (service, stream), as an SDK batches them: the inverse of
// RecordsFromOTLP up to attribute nesting.
func toOTLP(recs []eventstore.Record) ptrace.Traces {
	td := ptrace.NewTraces()
	type key struct{ group, stream string }
	scopes := map[key]ptrace.SpanSlice{}
	for i := range recs {
		r := &recs[i]
		k := key{r.Group, r.Stream}
		spans, ok := scopes[k]
		if !ok {
			rs := td.ResourceSpans().AppendEmpty()
			putAttrs(rs.Resource().Attributes(), r.Resource)
			if _, ok := rs.Resource().Attributes().Get("service.name"); !ok {
				rs.Resource().Attributes().PutStr("service.name", r.Group)
			}
			spans = rs.ScopeSpans().AppendEmpty().Spans()
			scopes[k] = spans
		}
		sp := spans.AppendEmpty()
		sp.SetTraceID(r.TraceID)
		sp.SetSpanID(r.SpanID)
		sp.SetParentSpanID(r.ParentSpanID)
		sp.SetName(r.Name)
		sp.SetKind(ptrace.SpanKind(r.Kind))
		sp.SetStartTimestamp(pcommon.Timestamp(r.Time))
		sp.SetEndTimestamp(pcommon.Timestamp(r.Time + r.Duration))
		sp.Status().SetCode(ptrace.StatusCode(r.StatusCode))
		sp.Status().SetMessage(r.StatusMessage)
		putAttrs(sp.Attributes(), r.Attributes)
		for _, e := range r.Events {
			ev := sp.Events().AppendEmpty()
			ev.SetTimestamp(pcommon.Timestamp(e.Time))
			ev.SetName(e.Name)
			putAttrs(ev.Attributes(), e.Attributes)
		}
		for _, l := range r.Links {
			ln := sp.Links().AppendEmpty()
			ln.SetTraceID(l.TraceID)
			ln.SetSpanID(l.SpanID)
			ln.TraceState().FromRaw(l.TraceState)
			putAttrs(ln.Attributes(), l.Attributes)
		}
	}
	return td
}

func putAttrs(m pcommon.Map, attrs []eventstore.Attr) {
	m.EnsureCapacity(len(attrs))
	for _, a := range attrs {
		switch a.Value.Kind {
		case eventstore.KindInt:
			m.PutInt(a.Key, a.Value.Int)
		case eventstore.KindFloat:
			m.PutDouble(a.Key, a.Value.Float)
		case eventstore.KindBool:
			m.PutBool(a.Key, a.Value.Int != 0)
		default:
			m.PutStr(a.Key, a.Value.Str)
		}
	}
}
