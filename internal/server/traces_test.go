package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/miradorhq/mirador/internal/auth"
)

// traceJSON is the data of GET /api/v1/traces/{id}.
type traceJSON struct {
	TraceID       string   `json:"traceId"`
	XRayTraceID   string   `json:"xrayTraceId"`
	RootService   string   `json:"rootService"`
	RootOperation string   `json:"rootOperation"`
	SpanCount     int      `json:"spanCount"`
	ErrorCount    int      `json:"errorCount"`
	Services      []string `json:"services"`
	Spans         []struct {
		SpanID        string `json:"spanId"`
		ParentSpanID  string `json:"parentSpanId"`
		Service       string `json:"service"`
		Name          string `json:"name"`
		Kind          string `json:"kind"`
		DurationNanos int64  `json:"durationNanos"`
		Status        struct{ Code, Message string }
		Attributes    map[string]any `json:"attributes"`
		Resource      map[string]any `json:"resource"`
		Events        []struct{ Name string }
	} `json:"spans"`
}

func (c client) trace(t *testing.T, id string) (int, traceJSON) {
	t.Helper()
	status, body := c.get(t, "/api/v1/traces/"+id, nil)
	var out struct{ Data traceJSON }
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%v in %s", err, body)
		}
	}
	return status, out.Data
}

// tracer returns a tracer of an SDK provider for service exporting to exp.
func tracer(t *testing.T, exp sdktrace.SpanExporter, service string) (trace.Tracer, func()) {
	t.Helper()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service), attribute.String("host.name", service+"-1"))),
	)
	return tp.Tracer("mirador-test"), func() {
		if err := tp.Shutdown(context.Background()); err != nil {
			t.Errorf("OTel SDK trace export: %v", err)
		}
	}
}

// at returns a span start or end option base+ms.
func at(base time.Time, ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }

// system emits one request through client → api → {db, postgres}: the
// client and api are traced services, db is a traced service called over
// HTTP, postgres is a database known only from the api's client span.
// It returns the trace id.
func system(t *testing.T, client, api, db trace.Tracer, base time.Time, fail bool) trace.TraceID {
	ctx := context.Background()
	ctx, root := client.Start(ctx, "GET /checkout", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(base),
		trace.WithAttributes(attribute.String("peer.service", "api"), attribute.String("app.customer.tier", "gold")))
	sctx, srv := api.Start(ctx, "GET /checkout", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at(base, 2)),
		trace.WithAttributes(attribute.Int("http.response.status_code", 200), attribute.Int("app.cart.items", 3)))
	dctx, call := api.Start(sctx, "POST /reserve", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(at(base, 5)))
	_, dbSrv := db.Start(dctx, "POST /reserve", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at(base, 6)))
	if fail {
		dbSrv.SetStatus(codes.Error, "stock exhausted")
		dbSrv.AddEvent("exception", trace.WithAttributes(attribute.String("exception.message", "stock exhausted")))
		call.SetStatus(codes.Error, "503")
	}
	dbSrv.End(trace.WithTimestamp(at(base, 36)))
	call.End(trace.WithTimestamp(at(base, 38)))
	_, q := api.Start(sctx, "SELECT orders", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(at(base, 40)),
		trace.WithAttributes(attribute.String("db.system", "postgresql"), attribute.String("db.name", "orders"), attribute.String("server.address", "pg-1")))
	q.End(trace.WithTimestamp(at(base, 48)))
	srv.End(trace.WithTimestamp(at(base, 50)))
	root.End(trace.WithTimestamp(at(base, 52)))
	return root.SpanContext().TraceID()
}

func TestOTelSDKTraceExportersAndTraceLookup(t *testing.T) {
	s := testServer(t, "")
	ctx := context.Background()
	httpExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(s.Addr("otlp_http")), otlptracehttp.WithInsecure(), otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	grpcExp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(s.Addr("otlp_grpc")), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	// The client and api export over HTTP, the db over gRPC: one trace
	// arrives through both transports.
	cl, stop1 := tracer(t, httpExp, "client")
	api, stop2 := tracer(t, httpExp, "api")
	db, stop3 := tracer(t, grpcExp, "db")
	base := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	id := system(t, cl, api, db, base, true)
	stop1()
	stop2()
	stop3()

	c := client{base: httpBase(s)}
	xrayID := "1-" + id.String()[:8] + "-" + id.String()[8:]
	for _, form := range []string{id.String(), xrayID} {
		status, tr := c.trace(t, form)
		if status != http.StatusOK {
			t.Fatalf("GET trace %s: %d", form, status)
		}
		if tr.TraceID != id.String() || tr.SpanCount != 5 || tr.ErrorCount != 2 || tr.RootService != "client" || tr.RootOperation != "GET /checkout" ||
			fmt.Sprint(tr.Services) != "[api client db]" || tr.XRayTraceID != xrayID {
			t.Fatalf("summary: %+v", tr)
		}
		byName := map[string]int{}
		for i, sp := range tr.Spans {
			byName[sp.Service+" "+sp.Name+" "+sp.Kind] = i
		}
		root := tr.Spans[byName["client GET /checkout client"]]
		srv := tr.Spans[byName["api GET /checkout server"]]
		call := tr.Spans[byName["api POST /reserve client"]]
		dbSrv := tr.Spans[byName["db POST /reserve server"]]
		if root.ParentSpanID != "" || srv.ParentSpanID != root.SpanID || call.ParentSpanID != srv.SpanID || dbSrv.ParentSpanID != call.SpanID {
			t.Errorf("parent chain broken: %+v", tr.Spans)
		}
		if srv.DurationNanos != int64(48*time.Millisecond) || fmt.Sprint(srv.Attributes["app.cart.items"]) != "3" || srv.Resource["service.name"] != "api" {
			t.Errorf("api server span: %+v", srv)
		}
		if dbSrv.Status.Code != "error" || dbSrv.Status.Message != "stock exhausted" || len(dbSrv.Events) != 1 || dbSrv.Events[0].Name != "exception" {
			t.Errorf("db span: %+v", dbSrv)
		}
	}
	if status, _ := c.trace(t, "0123456789abcdef0123456789abcdef"); status != http.StatusNotFound {
		t.Errorf("unknown trace: %d, want 404", status)
	}
	if status, _ := c.trace(t, "not-a-trace"); status != http.StatusBadRequest {
		t.Errorf("bad id: %d, want 400", status)
	}
}

// sendSystem emits n requests of the three-service system over OTLP/HTTP,
// every third failing, and returns their trace ids.
func sendSystem(t *testing.T, s *Server, n int, base time.Time) []trace.TraceID {
	t.Helper()
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpoint(s.Addr("otlp_http")), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	cl, stop1 := tracer(t, exp, "client")
	api, stop2 := tracer(t, exp, "api")
	db, stop3 := tracer(t, exp, "db")
	var ids []trace.TraceID
	for i := range n {
		ids = append(ids, system(t, cl, api, db, base.Add(time.Duration(i)*time.Second), i%3 == 0))
	}
	stop1()
	stop2()
	stop3()
	return ids
}

func TestServiceMapSpanMetricsSearchAndQuery(t *testing.T) {
	s := testServer(t, "")
	base := time.Now().Add(-20 * time.Minute).Truncate(time.Second)
	ids := sendSystem(t, s, 9, base)
	c := client{base: httpBase(s)}

	// Service map: every edge with its request and error counts, measured
	// on the caller's side.
	status, body := c.get(t, "/api/v1/traces/servicemap", url.Values{"start": {base.Add(-time.Minute).Format(time.RFC3339)}, "end": {time.Now().Format(time.RFC3339)}})
	if status != http.StatusOK {
		t.Fatalf("servicemap: %d %s", status, body)
	}
	var m struct {
		Data struct {
			Nodes []struct {
				Name, Type       string
				Requests, Errors int64
			}
			Edges []struct {
				Source, Target   string
				Requests, Errors int64
				Latency          struct{ P50Ms, P99Ms float64 }
			}
		}
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	nodes := map[string]string{}
	for _, n := range m.Data.Nodes {
		nodes[n.Name] = fmt.Sprintf("%s %d/%d", n.Type, n.Requests, n.Errors)
	}
	wantNodes := map[string]string{"client": "service 9/0", "api": "service 9/0", "db": "service 9/3", "orders": "database 0/0"}
	for name, want := range wantNodes {
		if nodes[name] != want {
			t.Errorf("node %s = %q, want %q (all: %v)", name, nodes[name], want, nodes)
		}
	}
	edges := map[string]string{}
	for _, e := range m.Data.Edges {
		edges[e.Source+"→"+e.Target] = fmt.Sprintf("%d/%d p50=%gms", e.Requests, e.Errors, e.Latency.P50Ms)
	}
	wantEdges := map[string]string{"(client)→client": "9/0 p50=52ms", "client→api": "9/0 p50=52ms", "api→db": "9/3 p50=33ms", "api→orders": "9/0 p50=8ms"}
	for k, want := range wantEdges {
		if edges[k] != want {
			t.Errorf("edge %s = %q, want %q (all: %v)", k, edges[k], want, edges)
		}
	}

	// Span metrics reach PromQL.
	s.spanRED.Flush()
	got := c.query(t, `sum by (service_name, span_kind, status_code) (traces_span_metrics_calls_total{span_name="POST /reserve"})`)
	want := map[string]float64{
		`{service_name="api", span_kind="SPAN_KIND_CLIENT", status_code="STATUS_CODE_ERROR"}`: 3,
		`{service_name="api", span_kind="SPAN_KIND_CLIENT", status_code="STATUS_CODE_UNSET"}`: 6,
		`{service_name="db", span_kind="SPAN_KIND_SERVER", status_code="STATUS_CODE_ERROR"}`:  3,
		`{service_name="db", span_kind="SPAN_KIND_SERVER", status_code="STATUS_CODE_UNSET"}`:  6,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("span metric calls:\n got %v\nwant %v", got, want)
	}
	q := c.query(t, `histogram_quantile(0.5, sum(traces_span_metrics_duration_seconds{service_name="api", span_name="SELECT orders"}))`)
	for _, v := range q {
		if v < 0.0075 || v > 0.0085 {
			t.Errorf("median SELECT orders duration %gs, want ≈ 0.008", v)
		}
	}
	if len(q) != 1 {
		t.Errorf("duration quantile: %v", q)
	}

	// Search by attribute and duration finds whole traces.
	search := func(req map[string]any) []map[string]any {
		t.Helper()
		req["start"], req["end"] = base.Add(-time.Minute).Format(time.RFC3339), time.Now().Format(time.RFC3339)
		status, body := c.postJSON(t, "/api/v1/traces/search", req)
		if status != http.StatusOK {
			t.Fatalf("search %v: %d %s", req, status, body)
		}
		var out struct{ Data []map[string]any }
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatal(err)
		}
		return out.Data
	}
	found := search(map[string]any{"service": "db", "error": true})
	if len(found) != 3 || found[0]["traceId"] != ids[6].String() || found[0]["spanCount"] != 5.0 || found[0]["rootService"] != "client" {
		t.Errorf("errors in db: %v", found)
	}
	found = search(map[string]any{"conditions": []map[string]string{{"key": "app.cart.items", "op": ">=", "value": "3"}}, "minDuration": "40ms", "limit": 4})
	if len(found) != 4 || found[0]["traceId"] != ids[8].String() {
		t.Errorf("attribute search: %v", found)
	}
	if found := search(map[string]any{"conditions": []map[string]string{{"key": "app.customer.tier", "op": "=", "value": "silver"}}}); len(found) != 0 {
		t.Errorf("search for a value nobody has: %v", found)
	}
	if status, body := c.postJSON(t, "/api/v1/traces/search", map[string]any{"minDuration": "fast"}); status != http.StatusBadRequest {
		t.Errorf("bad duration: %d %s", status, body)
	}

	// Insights over spans, the same engine as logs.
	now := time.Now().UTC()
	status, body = c.postJSON(t, "/api/v1/traces/query", map[string]any{
		"query": `filter service = "api" and duration > 5ms | stats count() as n, pct(durationMs, 50) as p50 by name | sort name asc`,
		"start": base.Add(-time.Minute).Format(time.RFC3339), "end": now.Format(time.RFC3339),
	})
	if status != http.StatusOK {
		t.Fatalf("query: %d %s", status, body)
	}
	var res queryResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Rows) != "[map[n:9 name:GET /checkout p50:48] map[n:9 name:POST /reserve p50:33] map[n:9 name:SELECT orders p50:8]]" {
		t.Errorf("query rows: %v", res.Rows)
	}
	status, body = c.postJSON(t, "/api/v1/traces/query", map[string]any{"query": "stats count( by name"})
	if status != http.StatusBadRequest {
		t.Errorf("bad query: %d %s", status, body)
	}
}

func TestTracesTenantIsolation(t *testing.T) {
	dir := t.TempDir()
	keys := createKeys(t, dir, map[string]struct {
		tenant string
		scopes []auth.Scope
	}{
		"a": {"team-a", []auth.Scope{auth.ScopeIngest, auth.ScopeRead, auth.ScopeAdmin}},
		"b": {"team-b", []auth.Scope{auth.ScopeIngest, auth.ScopeRead}},
	})
	s := testServerIn(t, dir, "")
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(s.Addr("otlp_http")), otlptracehttp.WithInsecure(),
		otlptracehttp.WithHeaders(map[string]string{"Authorization": "Bearer " + keys["a"]}))
	if err != nil {
		t.Fatal(err)
	}
	tr, stop := tracer(t, exp, "secret-service")
	base := time.Now().Add(-5 * time.Minute)
	_, sp := tr.Start(ctx, "handle", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(base), trace.WithAttributes(attribute.String("team", "a")))
	sp.End(trace.WithTimestamp(at(base, 10)))
	id := sp.SpanContext().TraceID()
	stop()

	a, b := client{base: httpBase(s), key: keys["a"]}, client{base: httpBase(s), key: keys["b"]}
	if status, _ := a.trace(t, id.String()); status != http.StatusOK {
		t.Fatalf("owner cannot read its trace: %d", status)
	}
	if status, _ := b.trace(t, id.String()); status != http.StatusNotFound {
		t.Errorf("other tenant reads the trace: %d", status)
	}
	rng := map[string]any{"start": base.Add(-time.Minute).Format(time.RFC3339), "end": time.Now().Format(time.RFC3339)}
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/api/v1/traces/search", map[string]any{"service": "secret-service"}},
		{"/api/v1/traces/query", map[string]any{"query": "stats count() as n"}},
	} {
		for k, v := range rng {
			c.body[k] = v
		}
		_, ab := a.postJSON(t, c.path, c.body)
		_, bb := b.postJSON(t, c.path, c.body)
		if string(ab) == string(bb) {
			t.Errorf("%s: tenants see the same answer %s", c.path, ab)
		}
		if strings.Contains(string(bb), "secret-service") || strings.Contains(string(bb), `"n":1`) {
			t.Errorf("%s: team-b sees team-a's spans: %s", c.path, bb)
		}
	}
	rule := map[string]any{"RuleName": "secret-rule", "Priority": 1, "FixedRate": 1.0, "ReservoirSize": 1, "ServiceName": "*", "ServiceType": "*",
		"Host": "*", "HTTPMethod": "*", "URLPath": "*", "ResourceARN": "*", "Version": 1}
	if status, body := a.postJSON(t, "/api/v1/traces/sampling-rules", rule); status != http.StatusCreated {
		t.Fatalf("create rule: %d %s", status, body)
	}
	if status, _ := b.get(t, "/api/v1/traces/sampling-rules/secret-rule", nil); status != http.StatusNotFound {
		t.Errorf("team-b reads team-a's sampling rule: %d", status)
	}
	if _, body := b.do(t, http.MethodPost, "/GetSamplingRules", strings.NewReader("{}"), nil); strings.Contains(string(body), "secret-rule") || !strings.Contains(string(body), "Default") {
		t.Errorf("team-b's GetSamplingRules: %s", body)
	}
	for _, path := range []string{"/api/v1/traces/services", "/api/v1/traces/servicemap", "/api/v1/traces/sampling-rules",
		"/jaeger/api/services", "/jaeger/api/traces/" + id.String(), "/jaeger/api/traces?service=secret-service&lookback=1h"} {
		_, ab := a.get(t, path, nil)
		_, bb := b.get(t, path, nil)
		if !strings.Contains(string(ab), "secret-") || strings.Contains(string(bb), "secret-") {
			t.Errorf("%s: team-a %s, team-b %s", path, ab, bb)
		}
	}
}

// TestZipkinReporterPayload posts spans the way zipkin-go's HTTP reporter
// does and reads the trace back: the shared server span hangs under its
// client span.
func TestZipkinReporterPayload(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	ts := time.Now().Add(-time.Minute).UnixMicro()
	body := fmt.Sprintf(`[
{"traceId":"5982fe77008310cc80f1da5e10147517","id":"352bff9a74ca9ad2","kind":"CLIENT","name":"get /api","timestamp":%d,"duration":207000,
 "localEndpoint":{"serviceName":"frontend","ipv4":"127.0.0.1"},"remoteEndpoint":{"serviceName":"backend","ipv4":"192.168.99.101","port":9000},
 "annotations":[{"timestamp":%d,"value":"ws"}],"tags":{"http.method":"GET","http.path":"/api"}},
{"traceId":"5982fe77008310cc80f1da5e10147517","id":"352bff9a74ca9ad2","kind":"SERVER","name":"get /api","timestamp":%d,"duration":150000,"shared":true,
 "localEndpoint":{"serviceName":"backend","ipv4":"192.168.99.101","port":9000},"tags":{"http.status_code":"503","error":"overloaded"}}]`, ts, ts+1000, ts+20000)
	status, resp := c.do(t, http.MethodPost, "/zipkin/api/v2/spans", strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
	if status != http.StatusAccepted {
		t.Fatalf("post: %d %s", status, resp)
	}
	st, tr := c.trace(t, "5982fe77008310cc80f1da5e10147517")
	if st != http.StatusOK || tr.SpanCount != 2 || tr.RootService != "frontend" || tr.ErrorCount != 1 {
		t.Fatalf("trace: %d %+v", st, tr)
	}
	cl, srv := tr.Spans[0], tr.Spans[1]
	if cl.Kind != "client" || srv.Kind != "server" || srv.ParentSpanID != cl.SpanID || srv.Service != "backend" || srv.Status.Message != "overloaded" ||
		cl.Attributes["http.request.method"] != "GET" || cl.Attributes["peer.service"] != "backend" || len(cl.Events) != 1 {
		t.Errorf("spans %+v", tr.Spans)
	}

	// A bad span is refused alone, by position.
	status, resp = c.do(t, http.MethodPost, "/zipkin/api/v2/spans", strings.NewReader(`[{"traceId":"abc","id":"1"},{"traceId":"5982fe77008310cc80f1da5e10147518","id":"352bff9a74ca9ad2","name":"ok"}]`), nil)
	if status != http.StatusOK || !strings.Contains(string(resp), `"accepted":1`) || !strings.Contains(string(resp), `"line":0`) {
		t.Errorf("partial: %d %s", status, resp)
	}
	if status, resp = c.do(t, http.MethodPost, "/zipkin/api/v2/spans", strings.NewReader(`{"not":"a list"}`), nil); status != http.StatusBadRequest {
		t.Errorf("not a list: %d %s", status, resp)
	}
	if status, _ = c.do(t, http.MethodPost, "/zipkin/api/v2/spans", strings.NewReader("x"), http.Header{"Content-Type": {"application/x-protobuf"}}); status != http.StatusUnsupportedMediaType {
		t.Errorf("proto3: %d", status)
	}
}

// TestJaegerQueryAPI drives the endpoints Grafana's Jaeger data source
// calls, with its parameters, over the three-service system.
func TestJaegerQueryAPI(t *testing.T) {
	s := testServer(t, "")
	base := time.Now().Add(-20 * time.Minute).Truncate(time.Second)
	ids := sendSystem(t, s, 6, base)
	c := client{base: httpBase(s)}
	get := func(path string, params url.Values) (int, map[string]any) {
		t.Helper()
		status, body := c.get(t, path, params)
		var out map[string]any
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s: %v in %s", path, err, body)
		}
		return status, out
	}
	if _, out := get("/jaeger/api/services", nil); fmt.Sprint(out["data"]) != "[api client db]" || out["total"] != 3.0 {
		t.Errorf("services: %v", out)
	}
	if _, out := get("/jaeger/api/services/api/operations", nil); fmt.Sprint(out["data"]) != "[GET /checkout POST /reserve SELECT orders]" {
		t.Errorf("operations (names): %v", out)
	}
	if _, out := get("/jaeger/api/operations", url.Values{"service": {"api"}, "spanKind": {"server"}}); fmt.Sprint(out["data"]) != "[map[name:GET /checkout spanKind:server]]" {
		t.Errorf("operations (kinds): %v", out)
	}
	// Grafana's search: µs range, JSON tags, duration strings, limit.
	params := url.Values{
		"service": {"db"}, "start": {strconv.FormatInt(base.Add(-time.Minute).UnixMicro(), 10)}, "end": {strconv.FormatInt(time.Now().UnixMicro(), 10)},
		"tags": {`{"error":"true"}`}, "minDuration": {"10ms"}, "limit": {"20"},
	}
	status, out := get("/jaeger/api/traces", params)
	data, _ := out["data"].([]any)
	if status != http.StatusOK || len(data) != 2 {
		t.Fatalf("search: %d %v", status, out)
	}
	tr := data[0].(map[string]any)
	if tr["traceID"] != ids[3].String() || len(tr["spans"].([]any)) != 5 || len(tr["processes"].(map[string]any)) != 3 {
		t.Errorf("first trace: %v", tr)
	}
	// One trace by id: the db span is CHILD_OF the api's client span, and
	// carries span.kind, error and its process.
	status, out = get("/jaeger/api/traces/"+ids[0].String(), nil)
	if status != http.StatusOK {
		t.Fatalf("trace: %d %v", status, out)
	}
	tr = out["data"].([]any)[0].(map[string]any)
	spans := map[string]map[string]any{}
	for _, sp := range tr["spans"].([]any) {
		m := sp.(map[string]any)
		spans[fmt.Sprint(tr["processes"].(map[string]any)[m["processID"].(string)].(map[string]any)["serviceName"], " ", m["operationName"])] = m
	}
	dbSpan, call := spans["db POST /reserve"], spans["api POST /reserve"]
	if dbSpan == nil || call == nil {
		t.Fatalf("spans by service and name: %v", spans)
	}
	refs := dbSpan["references"].([]any)
	if len(refs) != 1 || refs[0].(map[string]any)["refType"] != "CHILD_OF" || refs[0].(map[string]any)["spanID"] != call["spanID"] || dbSpan["duration"] != 30000.0 {
		t.Errorf("db span: %v", dbSpan)
	}
	tags := fmt.Sprint(dbSpan["tags"])
	for _, want := range []string{"map[key:span.kind type:string value:server]", "map[key:error type:bool value:true]", "map[key:otel.status_description type:string value:stock exhausted]"} {
		if !strings.Contains(tags, want) {
			t.Errorf("db span tags %s lack %s", tags, want)
		}
	}
	if status, out = get("/jaeger/api/traces/0123456789abcdef", nil); status != http.StatusNotFound || fmt.Sprint(out["errors"]) != "[map[code:404 msg:trace not found]]" {
		t.Errorf("unknown trace: %d %v", status, out)
	}
	if status, _ = get("/jaeger/api/traces", url.Values{"service": {"db"}, "minDuration": {"soon"}}); status != http.StatusBadRequest {
		t.Errorf("bad duration: %d", status)
	}
	_, out = get("/jaeger/api/dependencies", url.Values{"endTs": {strconv.FormatInt(time.Now().UnixMilli(), 10)}, "lookback": {"3600000"}})
	deps := fmt.Sprint(out["data"])
	for _, want := range []string{"map[callCount:6 child:api parent:client]", "map[callCount:6 child:db parent:api]", "map[callCount:6 child:orders parent:api]"} {
		if !strings.Contains(deps, want) {
			t.Errorf("dependencies %s lack %s", deps, want)
		}
	}
}
