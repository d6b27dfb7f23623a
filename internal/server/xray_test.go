package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"

	"github.com/miradorhq/mirador/internal/config"
)

// TestXRaySDKThroughTheDaemonProtocol runs the AWS X-Ray SDK for Go against
// the server's daemon address: it fetches the sampling rules created over
// the native API through the TCP side, and its segments sent over UDP come
// back as one trace with the right structure.
func TestXRaySDKThroughTheDaemonProtocol(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	for _, rule := range []map[string]any{
		{"RuleName": "orders-all", "Priority": 10, "FixedRate": 1.0, "ReservoirSize": 0, "ServiceName": "orders-api", "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": "*", "ResourceARN": "*", "Version": 1},
		{"RuleName": "health-none", "Priority": 5, "FixedRate": 0.0, "ReservoirSize": 0, "ServiceName": "health-*", "ServiceType": "*", "Host": "*", "HTTPMethod": "GET", "URLPath": "/health", "ResourceARN": "*", "Version": 1},
	} {
		if status, body := c.postJSON(t, "/api/v1/traces/sampling-rules", rule); status != http.StatusCreated {
			t.Fatalf("create rule: %d %s", status, body)
		}
	}

	xray.SetLogger(xraylog.NewDefaultLogger(io.Discard, xraylog.LogLevelError))
	strategy, err := sampling.NewCentralizedStrategy()
	if err != nil {
		t.Fatal(err)
	}
	if err := xray.Configure(xray.Config{
		DaemonAddr:       fmt.Sprintf("tcp:%s udp:%s", s.Addr("xray_tcp"), s.Addr("xray_udp")),
		SamplingStrategy: strategy,
	}); err != nil {
		t.Fatal(err)
	}
	decide := func(service, path string) *sampling.Decision {
		return strategy.ShouldTrace(&sampling.Request{ServiceName: service, Host: "shop.example.com", Method: "GET", URL: path})
	}
	deadline := time.Now().Add(10 * time.Second)
	for d := decide("orders-api", "/orders"); d.Rule == nil || *d.Rule != "orders-all"; d = decide("orders-api", "/orders") {
		if time.Now().After(deadline) {
			t.Fatal("the SDK did not fetch the server's sampling rules within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := decide("health-checker", "/health"); d.Sample || *d.Rule != "health-none" {
		t.Errorf("/health decided by %v, sample %v; want health-none, not sampled", *d.Rule, d.Sample)
	}

	ctx, seg := xray.BeginSegment(context.Background(), "orders-api")
	if !seg.Sampled {
		t.Fatal("orders-api's segment is not sampled, though its rule samples everything")
	}
	if err := seg.AddAnnotation("customer_tier", "gold"); err != nil {
		t.Fatal(err)
	}
	seg.GetHTTP().GetRequest().Method = "POST"
	seg.GetHTTP().GetRequest().URL = "https://orders.example.com/orders"
	seg.GetHTTP().GetResponse().Status = 502
	subCtx, load := xray.BeginSubsegment(ctx, "load-cart")
	_, remote := xray.BeginSubsegment(subCtx, "payments.example.com")
	remote.Namespace = "remote"
	remote.GetHTTP().GetRequest().Method = "POST"
	remote.GetHTTP().GetRequest().URL = "https://payments.example.com/charge"
	remote.Close(errors.New("payment gateway timeout"))
	load.Close(nil)
	// The SDK streams this one before its segment: the server must still
	// file it under orders-api.
	_, audit := xray.BeginSubsegment(ctx, "audit")
	audit.CloseAndStream(nil)
	seg.Close(errors.New("bad gateway"))

	var tr traceJSON
	deadline = time.Now().Add(10 * time.Second)
	for {
		var status int
		if status, tr = c.trace(t, seg.TraceID); status == http.StatusOK && tr.SpanCount == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s: %d spans after 10 s: %+v", seg.TraceID, tr.SpanCount, tr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if tr.XRayTraceID != seg.TraceID || tr.RootService != "orders-api" || fmt.Sprint(tr.Services) != "[orders-api]" {
		t.Errorf("summary %+v", tr)
	}
	spans := map[string]int{}
	for i, sp := range tr.Spans {
		spans[sp.Name] = i
	}
	root, l, r, a := tr.Spans[spans["orders-api"]], tr.Spans[spans["load-cart"]], tr.Spans[spans["payments.example.com"]], tr.Spans[spans["audit"]]
	if root.SpanID != seg.ID || root.Kind != "server" || root.Status.Code != "error" || root.Attributes["customer_tier"] != "gold" ||
		root.Attributes["http.response.status_code"] != 502.0 {
		t.Errorf("segment span %+v", root)
	}
	if l.ParentSpanID != root.SpanID || r.ParentSpanID != l.SpanID || a.ParentSpanID != root.SpanID {
		t.Errorf("parents: load-cart→%s remote→%s audit→%s, segment %s load-cart %s", l.ParentSpanID, r.ParentSpanID, a.ParentSpanID, root.SpanID, l.SpanID)
	}
	if r.Kind != "client" || r.Status.Code != "error" || r.Attributes["peer.service"] != "payments.example.com" {
		t.Errorf("remote subsegment %+v", r)
	}
	if a.Service != "orders-api" {
		t.Errorf("streamed subsegment filed under %q, want orders-api", a.Service)
	}

	// Annotations are searchable like any attribute.
	status, body := c.postJSON(t, "/api/v1/traces/search", map[string]any{"service": "orders-api", "conditions": []map[string]string{{"key": "customer_tier", "op": "=", "value": "gold"}}})
	if status != http.StatusOK || !strings.Contains(string(body), seg.TraceID) {
		t.Errorf("search by annotation: %d %s", status, body)
	}
}

// TestPutTraceSegments sends documents the way the AWS CLI's
// `aws xray put-trace-segments` does: good ones are stored, bad ones listed.
func TestPutTraceSegments(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	now := float64(time.Now().Add(-time.Minute).UnixNano()) / 1e9
	good := fmt.Sprintf(`{"name":"billing","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979","start_time":%.6f,"end_time":%.6f,"annotations":{"plan":"pro"}}`, now, now+0.25)
	bad := `{"name":"billing","id":"70de5b6f19ff9a0b","trace_id":"1-581cf771-a006649127e371903a2de979"}`
	docs, _ := json.Marshal(map[string][]string{"TraceSegmentDocuments": {good, bad}})
	status, body := c.do(t, http.MethodPost, "/TraceSegments", strings.NewReader(string(docs)), http.Header{"Content-Type": {"application/json"}})
	if status != http.StatusOK {
		t.Fatalf("PutTraceSegments: %d %s", status, body)
	}
	var out struct {
		UnprocessedTraceSegments []struct{ Id, ErrorCode, Message string }
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out.UnprocessedTraceSegments) != 1 || out.UnprocessedTraceSegments[0].Id != "70de5b6f19ff9a0b" ||
		!strings.Contains(out.UnprocessedTraceSegments[0].Message, "start_time") {
		t.Fatalf("unprocessed: %v %s", err, body)
	}
	st, tr := c.trace(t, "1-581cf771-a006649127e371903a2de979")
	if st != http.StatusOK || tr.SpanCount != 1 || tr.Spans[0].DurationNanos != int64(250*time.Millisecond) || tr.Spans[0].Attributes["plan"] != "pro" {
		t.Errorf("stored segment: %d %+v", st, tr)
	}
	status, body = c.do(t, http.MethodPost, "/TraceSegments", strings.NewReader("{not json"), nil)
	if status != http.StatusBadRequest || !strings.Contains(string(body), "InvalidRequestException") {
		t.Errorf("bad body: %d %s", status, body)
	}
}

func TestXRayListenerOffLoopbackNeedsInsecure(t *testing.T) {
	cfg, err := config.Load([]string{"--data-dir", t.TempDir(), "--http-addr", "127.0.0.1:0", "--otlp-http-addr", "", "--otlp-grpc-addr", "", "--xray-udp-addr", "0.0.0.0:0"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Start(context.Background(), cfg, testLogger(t))
	if !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "X-Ray") || !strings.Contains(err.Error(), "--xray-udp-addr") {
		t.Fatalf("Start = %v, want ErrInsecure naming the X-Ray listener", err)
	}
}
