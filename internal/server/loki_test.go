package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/grafana/loki/pkg/push"
	"github.com/klauspost/compress/snappy"

	"github.com/miradorhq/mirador/internal/auth"
)

// lokiPush sends a PushRequest encoded as promtail and Alloy do: Loki's
// own protobuf definitions, snappy block compression.
func (c client) lokiPush(t *testing.T, req *push.PushRequest) (int, []byte) {
	t.Helper()
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return c.do(t, "POST", "/loki/api/v1/push", bytes.NewReader(snappy.Encode(nil, raw)), http.Header{"Content-Type": {"application/x-protobuf"}})
}

func TestLokiPushProtobufAndJSON(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	now := time.Now()
	status, body := c.lokiPush(t, &push.PushRequest{Streams: []push.Stream{
		{Labels: `{service_name="checkout", level="error", env="prod"}`, Entries: []push.Entry{
			{Timestamp: now.Add(-2 * time.Second), Line: "payment declined", StructuredMetadata: push.LabelsAdapter{{Name: "trace_id", Value: "4bf92f3577b34da6a3ce929d0e0e4736"}}},
			{Timestamp: now.Add(-time.Second), Line: "retrying payment"},
		}},
		{Labels: `{job="nginx", host="web-1"}`, Entries: []push.Entry{{Timestamp: now, Line: `10.0.0.1 "GET /" 200`}}},
		{Labels: `{app="no-group-label"}`, Entries: []push.Entry{{Timestamp: now, Line: "to the default group"}}},
	}})
	if status != http.StatusNoContent {
		t.Fatalf("push: %d %s", status, body)
	}
	res := c.logsQuery(t, `fields @message, @logStream, env, level, trace_id | sort @timestamp asc`, "checkout")
	if len(res.Rows) != 2 || res.Rows[0]["@message"] != "payment declined" || res.Rows[0]["env"] != "prod" || res.Rows[0]["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" ||
		res.Rows[0]["@logStream"] != `{env="prod", level="error", service_name="checkout"}` {
		t.Errorf("checkout rows %+v", res.Rows)
	}
	if res := c.logsQuery(t, `filter level = "error" | stats count(*) as n`, "checkout"); fmt.Sprint(res.Rows[0]["n"]) != "2" {
		t.Errorf("level from the stream label: %+v", res.Rows)
	}
	if res := c.logsQuery(t, `fields @message`, "nginx"); len(res.Rows) != 1 {
		t.Errorf("job label names the group: %+v", res.Rows)
	}
	if res := c.logsQuery(t, `fields @message`, "default"); len(res.Rows) != 1 || res.Rows[0]["@message"] != "to the default group" {
		t.Errorf("no group label: %+v", res.Rows)
	}

	// JSON, gzip-compressed, with structured metadata.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	fmt.Fprintf(zw, `{"streams":[{"stream":{"service_name":"api"},"values":[["%d","GET /cart",{"user":"u-7"}]]}]}`, now.UnixNano())
	zw.Close()
	status, body = c.do(t, "POST", "/loki/api/v1/push", &gz, http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}})
	if status != http.StatusNoContent {
		t.Fatalf("JSON push: %d %s", status, body)
	}
	if res := c.logsQuery(t, `fields @message, user`, "api"); len(res.Rows) != 1 || res.Rows[0]["user"] != "u-7" {
		t.Errorf("api rows %+v", res.Rows)
	}
}

func TestLokiPushBadInputLosesNothingElse(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	now := time.Now()
	// One entry two days in the future is refused; the others are stored.
	status, body := c.lokiPush(t, &push.PushRequest{Streams: []push.Stream{{Labels: `{service_name="shop"}`, Entries: []push.Entry{
		{Timestamp: now, Line: "kept 1"}, {Timestamp: now.Add(48 * time.Hour), Line: "from the future"}, {Timestamp: now, Line: "kept 2"},
	}}}})
	if status != http.StatusBadRequest || !contains(body, "1 of 3 entries refused") || !contains(body, "entry 1:") {
		t.Errorf("partial push: %d %s", status, body)
	}
	if res := c.logsQuery(t, `fields @message`, "shop"); len(res.Rows) != 2 {
		t.Errorf("stored %+v, want the two good entries", res.Rows)
	}
	for _, tc := range []struct {
		ct, body, want string
		status         int
	}{
		{"application/x-protobuf", "garbage", "snappy", 400},
		{"application/json", `{"streams":[{"stream":{"job":"x"},"values":[["soon","x"]]}]}`, "Unix nanoseconds", 400},
		{"text/csv", "a,b", "Content-Type", 400},
	} {
		status, body := c.do(t, "POST", "/loki/api/v1/push", strings.NewReader(tc.body), http.Header{"Content-Type": {tc.ct}})
		if status != tc.status || !contains(body, tc.want) {
			t.Errorf("%s %q: %d %s", tc.ct, tc.body, status, body)
		}
	}
}

func TestLokiPushTenancy(t *testing.T) {
	dir := t.TempDir()
	keys := createKeys(t, dir, map[string]struct {
		tenant string
		scopes []auth.Scope
	}{
		"a": {tenant: "team-a", scopes: []auth.Scope{auth.ScopeAdmin}},
		"b": {tenant: "team-b", scopes: []auth.Scope{auth.ScopeAdmin}},
	})
	s := testServerIn(t, dir, "")
	a := client{base: httpBase(s), key: keys["a"], basic: true} // shippers send basic auth
	if status, body := a.lokiPush(t, &push.PushRequest{Streams: []push.Stream{{Labels: `{service_name="secret"}`, Entries: []push.Entry{{Timestamp: time.Now(), Line: "of a"}}}}}); status != http.StatusNoContent {
		t.Fatalf("push: %d %s", status, body)
	}
	b := client{base: httpBase(s), key: keys["b"]}
	if status, _ := b.postJSON(t, "/api/v1/logs/query", map[string]any{"query": "fields @message", "logGroups": []string{"secret"}}); status != http.StatusNotFound {
		t.Errorf("tenant b sees a's group: %d", status)
	}
	if status, _ := (client{base: httpBase(s)}).lokiPush(t, &push.PushRequest{}); status != http.StatusUnauthorized {
		t.Errorf("push without a key: %d, want 401", status)
	}
}

// Loki refuses pushes past "max active streams"; here stream labels are
// data, so a push of 20,000 distinct streams is just 20,000 lines.
func TestLokiPushAcceptsManyStreams(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	var req push.PushRequest
	now := time.Now()
	for i := range 20000 {
		req.Streams = append(req.Streams, push.Stream{
			Labels:  fmt.Sprintf(`{service_name="fleet", pod="pod-%d", request_id="r-%d"}`, i%500, i),
			Entries: []push.Entry{{Timestamp: now, Line: "started"}},
		})
	}
	if status, body := c.lokiPush(t, &req); status != http.StatusNoContent {
		t.Fatalf("push of 20,000 streams: %d %s", status, body)
	}
	res := c.logsQuery(t, `stats count_distinct(@logStream) as streams, count(*) as lines`, "fleet")
	if fmt.Sprint(res.Rows[0]["lines"]) != "20000" {
		t.Errorf("stored %+v", res.Rows)
	}
}

type lokiStreams struct {
	Status string
	Data   struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Stream map[string]string
			Values [][2]string
		}
	}
}

func (c client) lokiQuery(t *testing.T, q string, extra url.Values) (int, lokiStreams, []byte) {
	t.Helper()
	params := url.Values{"query": {q}}
	for k, v := range extra {
		params[k] = v
	}
	status, body := c.get(t, "/loki/api/v1/query_range", params)
	var r lokiStreams
	_ = json.Unmarshal(body, &r)
	return status, r, body
}

func TestLokiLogQueriesOverPushedLines(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	now := time.Now()
	var entries []push.Entry
	for i, l := range []string{
		`level=info method=GET path=/cart status=200 duration=12ms size=1.5KB`,
		`level=error method=POST path=/pay status=502 duration=1.2s size=300B`,
		`level=info method=GET path=/healthz status=200 duration=1ms size=10B`,
		`level=warn method=POST path=/pay status=429 duration=30ms size=2KB`,
	} {
		entries = append(entries, push.Entry{Timestamp: now.Add(time.Duration(i-10) * time.Second), Line: l})
	}
	jsonEntries := []push.Entry{{Timestamp: now.Add(-5 * time.Second), Line: `{"user":{"id":"u-7"},"latency_ms":250,"msg":"slow checkout"}`}}
	if status, body := c.lokiPush(t, &push.PushRequest{Streams: []push.Stream{
		{Labels: `{service_name="shop", env="prod"}`, Entries: entries},
		{Labels: `{service_name="shop", env="dev"}`, Entries: jsonEntries},
	}}); status != http.StatusNoContent {
		t.Fatalf("push: %d %s", status, body)
	}
	lines := func(r lokiStreams) []string {
		var out []string
		for _, st := range r.Data.Result {
			for _, v := range st.Values {
				out = append(out, v[1])
			}
		}
		return out
	}
	for _, c2 := range []struct {
		q     string
		extra url.Values
		want  []string
	}{
		{`{service_name="shop", env="prod"} |= "POST"`, url.Values{"direction": {"forward"}}, []string{
			`level=error method=POST path=/pay status=502 duration=1.2s size=300B`, `level=warn method=POST path=/pay status=429 duration=30ms size=2KB`}},
		{`{service_name="shop", env="prod"} != "healthz" | logfmt | status >= 500 or duration > 20ms | line_format "{{.method}} {{.path}} {{.status}}"`, url.Values{"direction": {"forward"}}, []string{
			"POST /pay 502", "POST /pay 429"}},
		{`{service_name="shop"} | logfmt | size > 1KB | line_format "{{.path}}"`, url.Values{"direction": {"forward"}}, []string{"/cart", "/pay"}},
		{`{service_name="shop", env=~"d.v"} | json | user_id="u-7" and latency_ms >= 250 | line_format "{{.msg}}"`, nil, []string{"slow checkout"}},
		{`{service_name="shop", env="prod"} |~ "status=(502|429)" | regexp "path=(?P<p>\\S+)" | line_format "{{.p}}"`, url.Values{"limit": {"1"}}, []string{"/pay"}},
		{`{service_name="nope"}`, nil, nil},
	} {
		status, r, body := c.lokiQuery(t, c2.q, c2.extra)
		if status != 200 || r.Status != "success" || r.Data.ResultType != "streams" || strings.Join(lines(r), "|") != strings.Join(c2.want, "|") {
			t.Errorf("%s: %d, lines %q, want %q\n%s", c2.q, status, lines(r), c2.want, body)
		}
	}
	// Labels the pipeline extracts and keeps are the stream's labels.
	_, r, _ := c.lokiQuery(t, `{service_name="shop", env="prod"} | logfmt | keep level, path | level="error"`, nil)
	if len(r.Data.Result) != 1 || len(r.Data.Result[0].Stream) != 2 || r.Data.Result[0].Stream["path"] != "/pay" {
		t.Errorf("keep: %+v", r.Data.Result)
	}
	for q, want := range map[string]string{
		`{service_name="shop"`:                      "parse error at line 1, col 21",
		`{service_name="shop"} | pattern "<a> <b>"`: "unsupported",
	} {
		if status, _, body := c.lokiQuery(t, q, nil); status != 400 || !contains(body, want) {
			t.Errorf("%s: %d %s, want 400 saying %q", q, status, body, want)
		}
	}
}

type lokiMatrix struct {
	Data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string
			Values [][2]any
			Value  [2]any
		}
	}
}

func TestLokiMetricQueries(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	m0 := time.Now().Truncate(time.Minute).Add(-10 * time.Minute)
	at := func(sec int) time.Time { return m0.Add(time.Duration(sec) * time.Second) }
	if status, body := c.lokiPush(t, &push.PushRequest{Streams: []push.Stream{
		{Labels: `{service_name="m", level="info"}`, Entries: []push.Entry{
			{Timestamp: at(10), Line: "needle path=/a bytes=100 latency=10ms"},
			{Timestamp: at(20), Line: "needle path=/b bytes=200 latency=30ms"},
			{Timestamp: at(30), Line: "hay path=/a bytes=300 latency=20ms"},
			{Timestamp: at(70), Line: "needle path=/b bytes=10 latency=5ms"},
		}},
		{Labels: `{service_name="m", level="error"}`, Entries: []push.Entry{
			{Timestamp: at(40), Line: "needle err path=/a bytes=50 latency=1s"},
		}},
	}}); status != http.StatusNoContent {
		t.Fatalf("push: %d %s", status, body)
	}
	rangeParams := url.Values{"start": {fmt.Sprint(at(60).UnixNano())}, "end": {fmt.Sprint(at(120).UnixNano())}, "step": {"60"}}
	// values returns each series' values keyed by the given label's value.
	values := func(q, by string) map[string][]string {
		t.Helper()
		params := url.Values{"query": {q}}
		for k, v := range rangeParams {
			params[k] = v
		}
		status, body := c.get(t, "/loki/api/v1/query_range", params)
		var r lokiMatrix
		if err := json.Unmarshal(body, &r); status != 200 || err != nil || r.Data.ResultType != "matrix" {
			t.Fatalf("%s: %d %s", q, status, body)
		}
		out := map[string][]string{}
		for _, sr := range r.Data.Result {
			for _, v := range sr.Values {
				ts := time.UnixMilli(int64(v[0].(float64) * 1000))
				out[sr.Metric[by]] = append(out[sr.Metric[by]], fmt.Sprintf("%ds=%s", int(ts.Sub(m0).Seconds()), v[1]))
			}
		}
		return out
	}
	for _, c2 := range []struct {
		q, by string
		want  map[string][]string
	}{
		{`sum by (level) (count_over_time({service_name="m"} |= "needle" [1m]))`, "level",
			map[string][]string{"info": {"60s=2", "120s=1"}, "error": {"60s=1"}}},
		{`sum(rate({service_name="m"} |= "needle" [1m])) * 60`, "",
			map[string][]string{"": {"60s=3", "120s=1"}}},
		{`sum by (path) (sum_over_time({service_name="m"} | logfmt | unwrap bytes [1m]))`, "path",
			map[string][]string{"/a": {"60s=450"}, "/b": {"60s=200", "120s=10"}}},
		{`quantile_over_time(0.5, {service_name="m", level="info"} | logfmt | unwrap duration(latency) [1m]) by (level)`, "level",
			map[string][]string{"info": {"60s=0.02", "120s=0.005"}}},
		{`topk(1, sum by (path) (count_over_time({service_name="m"} | logfmt [1m])))`, "path",
			map[string][]string{"/a": {"60s=3"}, "/b": {"120s=1"}}},
		{`sum(count_over_time({service_name="m"} |= "err" [1m])) / sum(count_over_time({service_name="m"}[1m]))`, "",
			map[string][]string{"": {"60s=0.25"}}},
		{`sum(count_over_time({service_name="m"}[1m])) > bool 2`, "",
			map[string][]string{"": {"60s=1", "120s=0"}}},
		{`absent_over_time({service_name="m", level="debug"}[1m])`, "level",
			map[string][]string{"debug": {"60s=1", "120s=1"}}},
		{`sum by (level) (bytes_over_time({service_name="m"}[1m]))`, "level",
			map[string][]string{"info": {"60s=108", "120s=35"}, "error": {"60s=38"}}}, // line lengths 37+37+34, 35; 38
	} {
		got := values(c2.q, c2.by)
		if fmt.Sprint(got) != fmt.Sprint(c2.want) {
			t.Errorf("%s\n got %v\nwant %v", c2.q, got, c2.want)
		}
	}
	status, body := c.get(t, "/loki/api/v1/query", url.Values{"query": {`sum(count_over_time({service_name="m"}[1m]))`}, "time": {fmt.Sprint(at(60).Unix())}})
	var inst lokiMatrix
	_ = json.Unmarshal(body, &inst)
	if status != 200 || inst.Data.ResultType != "vector" || len(inst.Data.Result) != 1 || inst.Data.Result[0].Value[1] != "4" {
		t.Errorf("instant: %d %s", status, body)
	}
	if status, body := c.get(t, "/loki/api/v1/query", url.Values{"query": {`{service_name="m"}`}}); status != 400 || !contains(body, "query_range") {
		t.Errorf("instant log query: %d %s", status, body)
	}
}
