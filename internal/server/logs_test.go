package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/miradorhq/mirador/internal/auth"
)

// queryResult is the reply of POST /api/v1/logs/query.
type queryResult struct {
	Status        string           `json:"status"`
	PartialReason string           `json:"partialReason"`
	Fields        []string         `json:"fields"`
	Rows          []map[string]any `json:"rows"`
	Stats         struct {
		RecordsScanned int64 `json:"recordsScanned"`
	} `json:"stats"`
}

func (c client) postJSON(t *testing.T, path string, body any) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return c.do(t, http.MethodPost, path, strings.NewReader(string(b)), http.Header{"Content-Type": {"application/json"}})
}

// logsQuery runs an Insights query over the last hour, failing on error.
func (c client) logsQuery(t *testing.T, q string, groups ...string) queryResult {
	t.Helper()
	now := time.Now().UTC()
	status, body := c.postJSON(t, "/api/v1/logs/query", map[string]any{
		"query": q, "logGroups": groups,
		"start": now.Add(-time.Hour).Format(time.RFC3339Nano), "end": now.Add(time.Minute).Format(time.RFC3339Nano),
	})
	if status != http.StatusOK {
		t.Fatalf("query %q: %d %s", q, status, body)
	}
	var res queryResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("query %q: %v in %s", q, err, body)
	}
	return res
}

func (c client) ingestNDJSON(t *testing.T, group, body string) (int, []byte) {
	t.Helper()
	return c.do(t, http.MethodPost, "/api/v1/logs/ingest?group="+url.QueryEscape(group), strings.NewReader(body),
		http.Header{"Content-Type": {"application/x-ndjson"}})
}

// emitWithSDK sends two log records through the OpenTelemetry log SDK.
func emitWithSDK(t *testing.T, exp sdklog.Exporter, service string) {
	t.Helper()
	ctx := context.Background()
	lp := sdklog.NewLoggerProvider(
		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)),
		sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", service), attribute.String("host.name", "web-1"))),
	)
	logger := lp.Logger("mirador-test")
	for i, msg := range []string{"order placed", "payment declined"} {
		var r otellog.Record
		r.SetTimestamp(time.Now())
		r.SetBody(attribute.StringValue(msg))
		r.SetSeverity(otellog.Severity(9 + 8*i)) // INFO, ERROR
		r.SetSeverityText([]string{"INFO", "ERROR"}[i])
		r.AddAttributes(attribute.String("order.id", fmt.Sprintf("o-%d", i)), attribute.Int("amount", 10*(i+1)))
		logger.Emit(ctx, r)
	}
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatalf("OTel SDK log export: %v", err)
	}
}

func TestOTelSDKLogExportersOverHTTPAndGRPC(t *testing.T) {
	s := testServer(t, "")
	ctx := context.Background()
	httpExp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(s.Addr("otlp_http")), otlploghttp.WithInsecure(), otlploghttp.WithCompression(otlploghttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	emitWithSDK(t, httpExp, "checkout")
	grpcExp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(s.Addr("otlp_grpc")), otlploggrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	emitWithSDK(t, grpcExp, "billing")

	c := client{base: httpBase(s)}
	for _, group := range []string{"checkout", "billing"} {
		res := c.logsQuery(t, `fields @message, level, amount, @logStream | filter level = "ERROR"`, group)
		if len(res.Rows) != 1 {
			t.Fatalf("%s: %d rows: %+v", group, len(res.Rows), res)
		}
		row := res.Rows[0]
		if row["@message"] != "payment declined" || row["level"] != "ERROR" || fmt.Sprint(row["amount"]) != "20" || row["@logStream"] != group+"/web-1" {
			t.Errorf("%s: row %v", group, row)
		}
	}
	res := c.logsQuery(t, `stats count() as n by @log | sort @log asc`)
	if len(res.Rows) != 2 || fmt.Sprint(res.Rows[0]["n"]) != "2" || res.Rows[0]["@log"] != "billing" {
		t.Errorf("stats by group: %+v", res.Rows)
	}
}

func TestOTLPLogGroupHeaderOverridesServiceName(t *testing.T) {
	s := testServer(t, "")
	exp, err := otlploghttp.New(context.Background(), otlploghttp.WithEndpoint(s.Addr("otlp_http")), otlploghttp.WithInsecure(),
		otlploghttp.WithHeaders(map[string]string{"X-Mirador-Log-Group": "/aws/lambda/orders"}))
	if err != nil {
		t.Fatal(err)
	}
	emitWithSDK(t, exp, "checkout")
	c := client{base: httpBase(s)}
	if res := c.logsQuery(t, `stats count() as n`, "/aws/lambda/orders"); len(res.Rows) != 1 || fmt.Sprint(res.Rows[0]["n"]) != "2" {
		t.Fatalf("records in the header's group: %+v", res.Rows)
	}
}

func TestNDJSONIngestReportsBadLinesAndStoresTheRest(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	now := time.Now().UTC()
	body := fmt.Sprintf(`{"@timestamp":%q,"message":"user login","level":"info","user":{"id":42,"name":"ada"}}
{"broken json
{"timestamp":%d,"msg":"disk almost full","severity":"warn","disk":{"free_pct":3.5}}
`, now.Add(-time.Minute).Format(time.RFC3339Nano), now.UnixMilli())
	status, reply := c.ingestNDJSON(t, "api", body)
	if status != http.StatusOK {
		t.Fatalf("ingest: %d %s", status, reply)
	}
	var r struct {
		Accepted, Rejected int
		Errors             []struct {
			Line  int
			Error string
		}
	}
	if err := json.Unmarshal(reply, &r); err != nil {
		t.Fatal(err)
	}
	if r.Accepted != 2 || r.Rejected != 1 || len(r.Errors) != 1 || r.Errors[0].Line != 2 || r.Errors[0].Error == "" {
		t.Fatalf("reply %s", reply)
	}
	res := c.logsQuery(t, `fields @message, user.name, disk.free_pct | sort @timestamp asc`, "api")
	if len(res.Rows) != 2 || res.Rows[0]["user.name"] != "ada" || fmt.Sprint(res.Rows[1]["disk.free_pct"]) != "3.5" {
		t.Fatalf("rows %+v", res.Rows)
	}

	// Only bad lines: 400 with the same report; plain text: one record per line.
	if status, reply := c.ingestNDJSON(t, "api", "nope\n"); status != http.StatusBadRequest || !contains(reply, `"line":1`) {
		t.Errorf("all-bad batch: %d %s", status, reply)
	}
	status, reply = c.do(t, http.MethodPost, "/api/v1/logs/ingest?group=api", strings.NewReader("plain one\nplain two\n"), http.Header{"Content-Type": {"text/plain"}})
	if status != http.StatusOK || !contains(reply, `"accepted":2`) {
		t.Errorf("text ingest: %d %s", status, reply)
	}
	if status, reply := c.do(t, http.MethodPost, "/api/v1/logs/ingest", strings.NewReader("{}"), nil); status != http.StatusBadRequest || !contains(reply, "group") {
		t.Errorf("no group: %d %s", status, reply)
	}
	if status, reply := c.ingestNDJSON(t, "bad group!", "{}"); status != http.StatusBadRequest || !contains(reply, "letters, digits") {
		t.Errorf("bad group: %d %s", status, reply)
	}
}

func TestLogsRateLimitAnswers429WithRetryAfter(t *testing.T) {
	s := testServer(t, "", "--limits.ingest-log-records-per-second", "1", "--limits.ingest-burst-log-records", "2")
	c := client{base: httpBase(s)}
	if status, body := c.ingestNDJSON(t, "api", "{}\n{}\n"); status != http.StatusOK {
		t.Fatalf("first batch: %d %s", status, body)
	}
	status, body := c.ingestNDJSON(t, "api", "{}\n{}\n")
	if status != http.StatusTooManyRequests || !contains(body, "ingest_log_records_per_second") {
		t.Fatalf("second batch: %d %s", status, body)
	}
	if status, body := c.ingestNDJSON(t, "api", "{}\n{}\n{}\n"); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("batch above the burst: %d %s", status, body)
	}
}

func TestLogsFilterPatternAndPaging(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	base := time.Now().Add(-10 * time.Minute).UTC()
	var b strings.Builder
	for i := range 25 {
		level := "INFO"
		if i%5 == 0 {
			level = "ERROR"
		}
		fmt.Fprintf(&b, `{"time":%d,"message":"[%s] request %d took %dms","latency":%d}`+"\n", base.Add(time.Duration(i)*time.Second).UnixMilli(), level, i, i*10, i*10)
	}
	if status, body := c.ingestNDJSON(t, "web", b.String()); status != http.StatusOK {
		t.Fatalf("ingest: %d %s", status, body)
	}
	type page struct {
		Events []struct {
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
			Group     string `json:"group"`
		}
		NextToken string `json:"nextToken"`
	}
	filter := func(pattern, token string, limit int) page {
		t.Helper()
		status, body := c.postJSON(t, "/api/v1/logs/filter", map[string]any{
			"filterPattern": pattern, "logGroups": []string{"web"}, "limit": limit, "nextToken": token,
			"start": base.Add(-time.Minute).Format(time.RFC3339), "end": time.Now().Add(time.Minute).UTC().Format(time.RFC3339),
		})
		if status != http.StatusOK {
			t.Fatalf("filter %q: %d %s", pattern, status, body)
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := filter("ERROR", "", 0); len(p.Events) != 5 || p.Events[0].Message != "[ERROR] request 0 took 0ms" || p.Events[0].Group != "web" {
		t.Fatalf("ERROR: %+v", p)
	}
	if p := filter("{ $.latency >= 200 }", "", 0); len(p.Events) != 5 {
		t.Fatalf("JSON pattern over attributes: %+v", p)
	}
	// Page through everything 7 at a time: all 25, in order, no repeats.
	var seen []string
	token := ""
	for range 10 {
		p := filter("", token, 7)
		for _, e := range p.Events {
			seen = append(seen, e.Message)
		}
		if token = p.NextToken; token == "" {
			break
		}
	}
	if len(seen) != 25 || seen[0] != "[ERROR] request 0 took 0ms" || seen[24] != "[INFO] request 24 took 240ms" {
		t.Fatalf("paged %d events: %q", len(seen), seen)
	}
	status, body := c.postJSON(t, "/api/v1/logs/filter", map[string]any{"filterPattern": "{ $.x = ", "logGroups": []string{"web"}})
	if status != http.StatusBadRequest || !contains(body, "column") {
		t.Errorf("bad pattern: %d %s", status, body)
	}
}

func TestInsightsErrorsPointAtTheQuery(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	status, body := c.postJSON(t, "/api/v1/logs/query", map[string]any{"query": "fields @message\n| stats count( by level"})
	if status != http.StatusBadRequest || !contains(body, "line 2") {
		t.Fatalf("bad query: %d %s", status, body)
	}
	status, body = c.postJSON(t, "/api/v1/logs/query", map[string]any{"query": "fields @message", "logGroups": []string{"nope"}})
	if status != http.StatusNotFound || !contains(body, "nope") {
		t.Fatalf("unknown group: %d %s", status, body)
	}
}

func TestLogGroupsAPI(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	if status, body := c.postJSON(t, "/api/v1/logs/groups", map[string]any{"name": "/aws/lambda/fn", "retentionInDays": 7}); status != http.StatusCreated || !contains(body, `"retentionInDays":7`) {
		t.Fatalf("create: %d %s", status, body)
	}
	if status, body := c.postJSON(t, "/api/v1/logs/groups", map[string]any{"name": "/aws/lambda/fn"}); status != http.StatusConflict {
		t.Fatalf("create twice: %d %s", status, body)
	}
	if status, body := c.postJSON(t, "/api/v1/logs/groups", map[string]any{"name": "x", "retentionInDays": 8}); status != http.StatusBadRequest || !contains(body, "1, 3, 5, 7") {
		t.Fatalf("bad retention: %d %s", status, body)
	}
	if status, body := c.do(t, http.MethodPut, "/api/v1/logs/groups/aws/lambda/fn", strings.NewReader(`{"retentionInDays":null}`), nil); status != http.StatusCreated {
		t.Fatalf("put creates: %d %s", status, body)
	}
	if status, body := c.do(t, http.MethodPut, "/api/v1/logs/groups/"+url.PathEscape("/aws/lambda/fn"), strings.NewReader(`{"retentionInDays":30}`), nil); status != http.StatusOK || !contains(body, `"retentionInDays":30`) {
		t.Fatalf("put retention: %d %s", status, body)
	}
	c.ingestNDJSON(t, "/aws/lambda/fn", `{"message":"hello"}`)
	status, body := c.get(t, "/api/v1/logs/groups", url.Values{"prefix": {"/aws"}})
	if status != http.StatusOK || !contains(body, `"name":"/aws/lambda/fn"`) || !contains(body, `"records":1`) || contains(body, `"name":"aws/lambda/fn"`) {
		t.Fatalf("list: %d %s", status, body)
	}
	if status, body := c.do(t, http.MethodDelete, "/api/v1/logs/groups/"+url.PathEscape("/aws/lambda/fn"), nil, nil); status != http.StatusOK {
		t.Fatalf("delete: %d %s", status, body)
	}
	if status, _ := c.get(t, "/api/v1/logs/groups/"+url.PathEscape("/aws/lambda/fn"), nil); status != http.StatusNotFound {
		t.Fatalf("get after delete: %d", status)
	}
	if res := c.logsQuery(t, `stats count() as n`); len(res.Rows) != 1 || fmt.Sprint(res.Rows[0]["n"]) != "0" {
		t.Fatalf("records survive their group's deletion: %+v", res.Rows)
	}
}

func TestLiveTailStreamsMatchingRecords(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/logs/tail?group=api&filterPattern=ERROR", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("tail: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c.ingestNDJSON(t, "other", `{"message":"ERROR elsewhere"}`)
	c.ingestNDJSON(t, "api", "{\"message\":\"all good\"}\n{\"message\":\"ERROR boom\"}\n")
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		var e struct{ Message, Group string }
		if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e); err != nil {
			t.Fatal(err)
		}
		if e.Message != "ERROR boom" || e.Group != "api" {
			t.Fatalf("tail delivered %+v", e)
		}
		return
	}
	t.Fatalf("tail ended without a record: %v", sc.Err())
}

func TestLogsTenantIsolation(t *testing.T) {
	dir := t.TempDir()
	keys := createKeys(t, dir, map[string]struct {
		tenant string
		scopes []auth.Scope
	}{
		"a": {tenant: "team-a", scopes: []auth.Scope{auth.ScopeAdmin}},
		"b": {tenant: "team-b", scopes: []auth.Scope{auth.ScopeAdmin}},
	})
	s := testServerIn(t, dir, "")
	a, b := client{base: httpBase(s), key: keys["a"]}, client{base: httpBase(s), key: keys["b"]}
	if status, body := a.ingestNDJSON(t, "shared-name", `{"message":"secret of a"}`); status != http.StatusOK {
		t.Fatalf("ingest: %d %s", status, body)
	}
	if res := b.logsQuery(t, `fields @message`); len(res.Rows) != 0 {
		t.Errorf("tenant b queried a's records: %+v", res.Rows)
	}
	if status, body := b.postJSON(t, "/api/v1/logs/query", map[string]any{"query": "fields @message", "logGroups": []string{"shared-name"}}); status != http.StatusNotFound {
		t.Errorf("tenant b sees a's group: %d %s", status, body)
	}
	if status, body := b.postJSON(t, "/api/v1/logs/filter", map[string]any{"filterPattern": "secret"}); status != http.StatusOK || contains(body, "secret of a") {
		t.Errorf("filter across tenants: %d %s", status, body)
	}
	if status, body := b.get(t, "/api/v1/logs/groups", nil); status != http.StatusOK || contains(body, "shared-name") {
		t.Errorf("group list across tenants: %d %s", status, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/api/v1/logs/tail", nil)
	req.Header.Set("Authorization", "Bearer "+keys["b"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a.ingestNDJSON(t, "shared-name", `{"message":"tail secret of a"}`)
	if tailed, _ := io.ReadAll(resp.Body); strings.Contains(string(tailed), "secret") {
		t.Errorf("tenant b tailed a's record: %s", tailed)
	}
	if status, _ := b.get(t, "/api/v1/logs/groups/shared-name", nil); status != http.StatusNotFound {
		t.Errorf("describe a's group as b: %d", status)
	}
	if status, _ := b.do(t, http.MethodDelete, "/api/v1/logs/groups/shared-name", nil, nil); status != http.StatusNotFound {
		t.Errorf("delete a's group as b: %d", status)
	}
	if res := a.logsQuery(t, `fields @message`); len(res.Rows) != 2 {
		t.Errorf("tenant a lost its record: %+v", res.Rows)
	}
	if status, _ := (client{base: httpBase(s)}).get(t, "/api/v1/logs/groups", nil); status != http.StatusUnauthorized {
		t.Errorf("anonymous list: %d", status)
	}
}
