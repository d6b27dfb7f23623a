package traces

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/miradorhq/mirador/internal/eventstore"
)

func TestParseTraceID(t *testing.T) {
	want := [16]byte{0x58, 0x40, 0x65, 0x20, 0xa0, 0x06, 0x64, 0x91, 0x27, 0xe3, 0x71, 0x90, 0x3a, 0x2d, 0xe9, 0x79}
	for _, s := range []string{"58406520a006649127e371903a2de979", "1-58406520-a006649127e371903a2de979"} {
		got, err := ParseTraceID(s)
		if err != nil || got != want {
			t.Errorf("ParseTraceID(%q) = %x, %v", s, got, err)
		}
	}
	short, err := ParseTraceID("463ac35c9f6413ad")
	if err != nil || short != [16]byte{8: 0x46, 9: 0x3a, 10: 0xc3, 11: 0x5c, 12: 0x9f, 13: 0x64, 14: 0x13, 15: 0xad} {
		t.Errorf("64-bit id: %x %v", short, err)
	}
	for _, bad := range []string{"", "xyz", "00000000000000000000000000000000", "1-5840652-a006649127e371903a2de979", "1-58406520-a00664912", "58406520a006649127e371903a2de979ff"} {
		if _, err := ParseTraceID(bad); err == nil {
			t.Errorf("ParseTraceID(%q) accepted", bad)
		}
	}
}

func span(id byte, parent byte, service string, start, dur int64, attrs ...eventstore.Attr) eventstore.Record {
	r := eventstore.Record{TraceID: [16]byte{1}, SpanID: [8]byte{id}, Group: service, Name: fmt.Sprintf("op%d", id), Time: start, Duration: dur, Attributes: attrs}
	if parent != 0 {
		r.ParentSpanID = [8]byte{parent}
	}
	return r
}

func TestAssembleDeduplicatesAndRehomes(t *testing.T) {
	inProgress := span(2, 1, "api", 20, 0, eventstore.Attr{Key: "aws.xray.in_progress", Value: eventstore.BoolValue(true)})
	inProgress.ObservedTime = 99
	complete := span(2, 1, "api", 20, 50)
	complete.ObservedTime = 10
	orphan := span(3, 2, UnknownService, 30, 5, eventstore.Attr{Key: "aws.xray.standalone", Value: eventstore.BoolValue(true)})
	got := assemble([]eventstore.Record{orphan, inProgress, span(1, 0, "web", 10, 100), complete})
	if len(got) != 3 {
		t.Fatalf("%d spans: %+v", len(got), got)
	}
	if got[0].SpanID[0] != 1 || got[1].SpanID[0] != 2 || got[2].SpanID[0] != 3 {
		t.Errorf("not ordered by start: %+v", got)
	}
	if got[1].Duration != 50 {
		t.Errorf("the in-progress copy won over the complete one: %+v", got[1])
	}
	if got[2].Group != "api" {
		t.Errorf("standalone subsegment not re-homed under its parent's service: %q", got[2].Group)
	}

	sum := Summarize([16]byte{1}, got)
	if sum.RootService != "web" || sum.RootOperation != "op1" || sum.SpanCount != 3 || sum.Duration != 100 || fmt.Sprint(sum.Services) != "[api web]" {
		t.Errorf("summary %+v", sum)
	}
	// Without the root, the span whose parent is missing stands in.
	sum = Summarize([16]byte{1}, got[1:])
	if sum.RootService != "api" || sum.RootOperation != "op2" {
		t.Errorf("summary without root %+v", sum)
	}
}

func TestTraceTopKeepsLatestDistinctTraces(t *testing.T) {
	top := &traceTop{n: 3, at: map[[16]byte]int{}}
	for i, ts := range []int64{5, 1, 9, 3, 7, 2} {
		top.offer([16]byte{byte(i + 1)}, ts)
	}
	top.offer([16]byte{2}, 100) // a later match of a trace already seen
	got := map[byte]int64{}
	for _, e := range top.items {
		got[e.id[0]] = e.time
	}
	if fmt.Sprint(got) != "map[2:100 3:9 5:7]" {
		t.Errorf("top traces %v", got)
	}
}

func TestConditions(t *testing.T) {
	r := span(1, 0, "api", 0, 0,
		eventstore.Attr{Key: "http.response.status_code", Value: eventstore.IntValue(503)},
		eventstore.Attr{Key: "tier", Value: eventstore.StringValue("gold")})
	r.Resource = []eventstore.Attr{{Key: "deployment.environment", Value: eventstore.StringValue("prod")}}
	for _, c := range []struct {
		cond Condition
		want bool
	}{
		{Condition{"http.response.status_code", ">=", "500"}, true},
		{Condition{"http.response.status_code", "<", "500"}, false},
		{Condition{"http.response.status_code", "=", "503"}, true},
		{Condition{"tier", "=", "gold"}, true},
		{Condition{"tier", "!=", "gold"}, false},
		{Condition{"deployment.environment", "=", "prod"}, true},
		{Condition{"missing", "exists", ""}, false},
		{Condition{"tier", "exists", ""}, true},
	} {
		m, err := c.cond.compile()
		if err != nil {
			t.Fatal(err)
		}
		if got := m(&r); got != c.want {
			t.Errorf("%+v = %v, want %v", c.cond, got, c.want)
		}
	}
	if _, err := (Condition{"x", "~", "y"}).compile(); err == nil {
		t.Error("unknown operator accepted")
	}
}

func TestPeerOf(t *testing.T) {
	s := eventstore.StringValue
	for _, c := range []struct {
		attrs []eventstore.Attr
		want  Node
	}{
		{[]eventstore.Attr{{Key: "db.system", Value: s("postgresql")}, {Key: "db.name", Value: s("orders")}}, Node{Name: "orders", Type: NodeDatabase}},
		{[]eventstore.Attr{{Key: "db.system", Value: s("redis")}, {Key: "server.address", Value: s("cache-1")}}, Node{Name: "cache-1", Type: NodeDatabase}},
		{[]eventstore.Attr{{Key: "messaging.system", Value: s("kafka")}, {Key: "messaging.destination.name", Value: s("orders")}}, Node{Name: "orders", Type: NodeQueue}},
		{[]eventstore.Attr{{Key: "peer.service", Value: s("payments")}, {Key: "server.address", Value: s("10.0.0.1")}}, Node{Name: "payments", Type: NodeService}},
		{[]eventstore.Attr{{Key: "server.address", Value: s("api.stripe.com")}}, Node{Name: "api.stripe.com", Type: NodeExternal}},
		{nil, Node{}},
	} {
		if got := peerOf(c.attrs); got != c.want {
			t.Errorf("peerOf(%v) = %+v, want %+v", c.attrs, got, c.want)
		}
	}
}

func TestBucketIndexMatchesNativeHistogramBounds(t *testing.T) {
	for _, v := range []float64{1e-6, 0.001, 0.0042, 0.5, 1, 1.0905077326652577, 2, 3.7, 1000} {
		i := bucketIndex(v)
		lo, hi := upperBound(i-1), upperBound(i)
		if !(lo < v && v <= hi) {
			t.Errorf("bucketIndex(%g) = %d: (%g, %g]", v, i, lo, hi)
		}
	}
	if bucketIndex(1) != 0 || bucketIndex(2) != 8 || bucketIndex(0.5) != -8 {
		t.Errorf("exact powers of two: %d %d %d", bucketIndex(1), bucketIndex(2), bucketIndex(0.5))
	}
}

// appendable records what span metrics write.
type appendable struct {
	floats map[string]float64
	hists  map[string]*histogram.Histogram
}

func (a *appendable) Appender(context.Context, string) (storage.AppenderV2, error) { return a, nil }
func (a *appendable) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AOptions) (storage.SeriesRef, error) {
	if h != nil {
		a.hists[ls.String()] = h
	} else {
		a.floats[ls.String()] = v
	}
	return 1, nil
}
func (a *appendable) Commit() error   { return nil }
func (a *appendable) Rollback() error { return nil }

func TestSpanMetricsCountsFoldsAndWritesHistograms(t *testing.T) {
	dst := &appendable{floats: map[string]float64{}, hists: map[string]*histogram.Histogram{}}
	m := NewSpanMetrics(dst, time.Hour, 2, nil)
	defer m.Close()
	var spans []eventstore.Record
	for i, name := range []string{"a", "b", "a", "c", "d", "a"} {
		sp := span(byte(i+1), 0, "api", 0, int64(i+1)*int64(time.Millisecond))
		sp.Name, sp.Kind = name, KindServer
		if name == "b" {
			sp.StatusCode = StatusError
		}
		spans = append(spans, sp)
	}
	running := span(99, 0, "api", 0, 0, eventstore.Attr{Key: "aws.xray.in_progress", Value: eventstore.BoolValue(true)})
	running.Name, running.Kind = "a", KindServer
	spans = append(spans, running) // not counted until complete
	if err := m.Record(context.Background(), "t", spans); err != nil {
		t.Fatal(err)
	}
	m.Flush()
	calls := func(name, status string) float64 {
		return dst.floats[fmt.Sprintf(`{__name__="%s", service_name="api", span_kind="SPAN_KIND_SERVER", span_name="%s", status_code="%s"}`, MetricCalls, name, status)]
	}
	if calls("a", "STATUS_CODE_UNSET") != 3 || calls("b", "STATUS_CODE_ERROR") != 1 || calls(OtherOperation, "STATUS_CODE_UNSET") != 2 {
		t.Errorf("calls: %v", dst.floats)
	}
	h := dst.hists[fmt.Sprintf(`{__name__="%s", service_name="api", span_kind="SPAN_KIND_SERVER", span_name="a", status_code="STATUS_CODE_UNSET"}`, MetricDuration)]
	if h == nil || h.Count != 3 || math.Abs(h.Sum-0.010) > 1e-9 || h.Schema != histogramSchema {
		t.Fatalf("histogram %v", h)
	}
	if err := h.Validate(); err != nil {
		t.Errorf("invalid native histogram: %v", err)
	}
	var got []string
	for it := h.PositiveBucketIterator(); it.Next(); {
		b := it.At()
		got = append(got, fmt.Sprintf("(%.5f,%.5f]:%d", b.Lower, b.Upper, b.Count))
	}
	// 1, 3 and 6 ms, each in its own bucket (2^(k/8), e.g. 2^-10 to 2^-9.875 for 1 ms).
	if want := "[(0.00098,0.00106]:1 (0.00276,0.00301]:1 (0.00552,0.00602]:1]"; fmt.Sprint(got) != want {
		t.Errorf("buckets %v, want %s", got, want)
	}
}

// FuzzOTLPTraces decodes arbitrary bytes as an OTLP trace export and
// converts what decodes: nothing may panic, and every record keeps its
// span's identity.
func FuzzOTLPTraces(f *testing.F) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "api")
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID([16]byte{1})
	sp.SetSpanID([8]byte{2})
	sp.SetName("GET /")
	sp.Attributes().PutEmptyMap("nested").PutInt("n", 1)
	sp.Events().AppendEmpty().SetName("exception")
	sp.Links().AppendEmpty().SetSpanID([8]byte{3})
	req := ptraceotlp.NewExportRequestFromTraces(td)
	b, _ := req.MarshalProto()
	f.Add(b)
	j, _ := req.MarshalJSON()
	f.Add(j)
	f.Fuzz(func(t *testing.T, data []byte) {
		req := ptraceotlp.NewExportRequest()
		if req.UnmarshalProto(data) != nil && req.UnmarshalJSON(data) != nil {
			return
		}
		recs := RecordsFromOTLP(req.Traces(), 1)
		if len(recs) != req.Traces().SpanCount() {
			t.Fatalf("%d records from %d spans", len(recs), req.Traces().SpanCount())
		}
		for _, r := range recs {
			if r.Group == "" || r.Duration < 0 {
				t.Fatalf("record %+v", r)
			}
		}
	})
}
