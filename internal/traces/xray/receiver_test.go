package xray

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// collectingSink records what the receiver delivers.
type collectingSink struct {
	mu      sync.Mutex
	tenants []string
	batches [][]eventstore.Record
	block   chan struct{} // when set, calls wait on it
	err     error
}

func (s *collectingSink) sink(ctx context.Context, tenant string, recs []eventstore.Record) error {
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tenants = append(s.tenants, tenant)
	s.batches = append(s.batches, recs)
	return s.err
}

func (s *collectingSink) records() []eventstore.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []eventstore.Record
	for _, b := range s.batches {
		out = append(out, b...)
	}
	return out
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func listen(t *testing.T, s *collectingSink) *Receiver {
	t.Helper()
	r, err := Listen("127.0.0.1:0", "acme", s.sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func dial(t *testing.T, r *Receiver) net.Conn {
	t.Helper()
	c, err := net.Dial("udp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

const header = `{"format": "json", "version": 1}` + "\n"

// TestReceiverWithXRaySDK runs the AWS X-Ray SDK for Go against the
// receiver, as an application would run it against the daemon.
func TestReceiverWithXRaySDK(t *testing.T) {
	s := &collectingSink{}
	r := listen(t, s)

	xray.SetLogger(xraylog.NewDefaultLogger(io.Discard, xraylog.LogLevelError))
	all, err := sampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"rules":[],"default":{"fixed_target":1,"rate":1.0}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := xray.Configure(xray.Config{DaemonAddr: r.Addr().String(), ServiceVersion: "3.1.4", SamplingStrategy: all}); err != nil {
		t.Fatal(err)
	}

	ctx, seg := xray.BeginSegment(context.Background(), "orders-api")
	if err := seg.AddAnnotation("customer_tier", "gold"); err != nil {
		t.Fatal(err)
	}
	if err := seg.AddAnnotation("items", 3); err != nil {
		t.Fatal(err)
	}
	if err := seg.AddMetadata("request", map[string]any{"cart": []int{1, 2}}); err != nil {
		t.Fatal(err)
	}
	seg.User = "alice"
	seg.GetHTTP().GetRequest().Method = "GET"
	seg.GetHTTP().GetRequest().URL = "https://orders.example.com/orders/42"
	seg.GetHTTP().GetResponse().Status = 500

	subCtx, sub := xray.BeginSubsegment(ctx, "load-order")
	_, remote := xray.BeginSubsegment(subCtx, "inventory.example.com")
	remote.Namespace = "remote"
	remote.GetHTTP().GetRequest().Method = "GET"
	remote.GetHTTP().GetRequest().URL = "http://inventory.example.com/stock/42"
	remote.GetHTTP().GetResponse().Status = 200
	remote.Close(nil)
	sub.Close(nil)

	// Streamed on its own before the segment: the receiver cannot know its
	// service yet.
	_, streamed := xray.BeginSubsegment(ctx, "audit")
	streamed.CloseAndStream(nil)

	seg.Close(errors.New("order store unavailable"))

	waitFor(t, "the segment's spans", func() bool { return len(s.records()) == 4 })
	byName := map[string]eventstore.Record{}
	for _, rec := range s.records() {
		byName[rec.Name] = rec
	}
	root, load, inv, audit := byName["orders-api"], byName["load-order"], byName["inventory.example.com"], byName["audit"]
	wantTrace, err := ParseTraceID(seg.TraceID)
	if err != nil {
		t.Fatal(err)
	}
	for name, rec := range byName {
		if rec.TraceID != wantTrace {
			t.Errorf("%s: trace %x, want %s", name, rec.TraceID, seg.TraceID)
		}
	}
	if FormatSegmentID(root.SpanID) != seg.ID || root.Kind != kindServer || root.Group != "orders-api" || root.ParentSpanID != [8]byte{} {
		t.Errorf("segment: id %x kind %d group %q parent %x", root.SpanID, root.Kind, root.Group, root.ParentSpanID)
	}
	if root.StatusCode != statusError || root.StatusMessage != "order store unavailable" || len(root.Events) != 1 {
		t.Errorf("segment status %d %q, %d events; want error with the exception's message", root.StatusCode, root.StatusMessage, len(root.Events))
	} else {
		wantAttrs(t, "exception", root.Events[0].Attributes, map[string]any{"exception.message": "order store unavailable"})
		// The SDK records the stack from its own caller's caller: here the
		// test runner.
		if st, _ := attr(root.Events[0].Attributes, "exception.stacktrace"); !strings.Contains(st.Str, "tRunner (testing/testing.go:") {
			t.Errorf("exception stack %q, want label (path:line) lines", st.Str)
		}
	}
	if d := root.Duration; d <= 0 || d > int64(10*time.Second) {
		t.Errorf("segment duration %d", d)
	}
	wantAttrs(t, "segment", root.Attributes, map[string]any{
		"customer_tier":             "gold",
		"items":                     3,
		"aws.xray.annotations":      `["customer_tier","items"]`,
		"aws.xray.metadata.default": `{"request":{"cart":[1,2]}}`,
		"enduser.id":                "alice",
		"http.request.method":       "GET",
		"url.full":                  "https://orders.example.com/orders/42",
		"http.response.status_code": 500,
		"aws.xray.fault":            true,
	})
	wantAttrs(t, "resource", root.Resource, map[string]any{
		"service.name":          "orders-api",
		"service.version":       "3.1.4",
		"telemetry.sdk.name":    "X-Ray for Go",
		"telemetry.sdk.version": xray.SDKVersion,
	})
	if load.Group != "orders-api" || load.ParentSpanID != root.SpanID || load.Kind != kindInternal {
		t.Errorf("load-order: group %q parent %x kind %d", load.Group, load.ParentSpanID, load.Kind)
	}
	if inv.Group != "orders-api" || inv.ParentSpanID != load.SpanID || inv.Kind != kindClient {
		t.Errorf("inventory call: group %q parent %x kind %d", inv.Group, inv.ParentSpanID, inv.Kind)
	}
	wantAttrs(t, "inventory call", inv.Attributes, map[string]any{
		"peer.service": "inventory.example.com", "server.address": "inventory.example.com", "http.response.status_code": 200,
	})
	if audit.Group != UnknownService || audit.ParentSpanID != root.SpanID {
		t.Errorf("streamed subsegment: group %q parent %x", audit.Group, audit.ParentSpanID)
	}
	wantAttrs(t, "streamed subsegment", audit.Attributes, map[string]any{"aws.xray.standalone": true})

	s.mu.Lock()
	for _, tenant := range s.tenants {
		if tenant != "acme" {
			t.Errorf("delivered to tenant %q, want acme", tenant)
		}
	}
	s.mu.Unlock()
	if st := r.Stats(); st.Received != 2 || st.Decoded != 2 || st.Invalid != 0 || st.Spans != 4 {
		t.Errorf("stats %+v, want 2 datagrams (subsegment, segment) decoded into 4 spans", st)
	}
}

func TestReceiverBatches(t *testing.T) {
	s := &collectingSink{}
	r := listen(t, s)
	c := dial(t, r)
	const n = 120
	for i := range n {
		doc := segmentDoc(fmt.Sprintf("%016x", i+1), "svc", "")
		if _, err := c.Write([]byte(header + doc)); err != nil {
			t.Fatal(err)
		}
		if i%40 == 39 {
			time.Sleep(time.Millisecond) // let the socket drain on slow machines
		}
	}
	waitFor(t, "all documents", func() bool { return len(s.records()) == n })
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.batches {
		if len(b) > batchDocuments {
			t.Errorf("batch of %d documents, limit %d", len(b), batchDocuments)
		}
	}
	if len(s.batches) >= n/2 {
		t.Errorf("%d sink calls for %d documents: not batched", len(s.batches), n)
	}
}

func TestReceiverLoneDocumentWaitsAtMostBatchWait(t *testing.T) {
	s := &collectingSink{}
	r := listen(t, s)
	start := time.Now()
	if _, err := dial(t, r).Write([]byte(header + segmentDoc("70de5b6f19ff9a0a", "svc", ""))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the document", func() bool { return len(s.records()) == 1 })
	if d := time.Since(start); d < batchWait/2 || d > batchWait+time.Second {
		t.Errorf("delivered after %s, want about %s", d, batchWait)
	}
}

func TestReceiverCountsInvalidDatagrams(t *testing.T) {
	s := &collectingSink{}
	r := listen(t, s)
	c := dial(t, r)
	for _, dg := range []string{
		"no header",
		`{"format":"json","version":2}` + "\n" + segmentDoc("70de5b6f19ff9a0a", "svc", ""),
		header + `{"id":"70de5b6f19ff9a0a"}`,
		header + segmentDoc("70de5b6f19ff9a0a", "svc", ""),
	} {
		if _, err := c.Write([]byte(dg)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "four datagrams", func() bool { return r.Stats().Received == 4 })
	if st := r.Stats(); st.Invalid != 3 || st.Decoded != 1 {
		t.Errorf("stats %+v, want 3 invalid and 1 decoded", st)
	}
}

func TestReceiverDropsWhenSinkIsSlow(t *testing.T) {
	s := &collectingSink{block: make(chan struct{})}
	r := listen(t, s)
	c := dial(t, r)
	// One batch blocks in the sink, queueDocuments wait, the rest drop.
	const n = batchDocuments + queueDocuments + 200
	sent := 0
	for i := range n {
		if _, err := c.Write([]byte(header + segmentDoc(fmt.Sprintf("%016x", i+1), "svc", ""))); err != nil {
			t.Fatal(err)
		}
		sent++
		if i%100 == 99 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	waitFor(t, "every datagram read", func() bool {
		st := r.Stats()
		return st.Received > 0 && st.Dropped > 0 && st.Decoded == st.Received
	})
	close(s.block)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if got := uint64(len(s.records())); got+st.Dropped != st.Decoded {
		t.Errorf("delivered %d + dropped %d != decoded %d", got, st.Dropped, st.Decoded)
	}
	if st.Dropped == 0 || st.Dropped > st.Decoded {
		t.Errorf("stats %+v (sent %d): want some dropped", st, sent)
	}
}

func TestReceiverCloseFlushesPendingBatch(t *testing.T) {
	s := &collectingSink{}
	r := listen(t, s)
	c := dial(t, r)
	for i := range 3 {
		if _, err := c.Write([]byte(header + segmentDoc(fmt.Sprintf("%016x", i+1), "svc", ""))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "three documents decoded", func() bool { return r.Stats().Decoded == 3 })
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(s.records()); got != 3 {
		t.Fatalf("after Close the sink has %d spans, want 3", got)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestReceiverSinkErrorsAndMetrics(t *testing.T) {
	s := &collectingSink{err: errors.New("disk full")}
	r := listen(t, s)
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(r); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(t, r).Write([]byte(header + segmentDoc("70de5b6f19ff9a0a", "svc", ""))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the sink error", func() bool { return r.Stats().SinkErrors == 1 })
	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP mirador_xray_udp_datagrams_received_total X-Ray daemon-protocol datagrams read.
# TYPE mirador_xray_udp_datagrams_received_total counter
mirador_xray_udp_datagrams_received_total{tenant="acme"} 1
# HELP mirador_xray_udp_sink_errors_total Batches of X-Ray spans the span store failed to store.
# TYPE mirador_xray_udp_sink_errors_total counter
mirador_xray_udp_sink_errors_total{tenant="acme"} 1
# HELP mirador_xray_udp_spans_delivered_total X-Ray spans handed to the span store.
# TYPE mirador_xray_udp_spans_delivered_total counter
mirador_xray_udp_spans_delivered_total{tenant="acme"} 0
`), "mirador_xray_udp_datagrams_received_total", "mirador_xray_udp_sink_errors_total", "mirador_xray_udp_spans_delivered_total")
	if err != nil {
		t.Error(err)
	}
}

func TestListenErrors(t *testing.T) {
	if _, err := Listen("127.0.0.1:0", "acme", nil, nil); err == nil {
		t.Error("Listen without a sink succeeded")
	}
	if _, err := Listen("not-an-address", "acme", (&collectingSink{}).sink, nil); err == nil || !strings.Contains(err.Error(), "not-an-address") {
		t.Errorf("Listen(bad address) error = %v", err)
	}
}
