package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

type bulkReply struct {
	Errors bool                        `json:"errors"`
	Items  []map[string]map[string]any `json:"items"`
}

func (c client) bulk(t *testing.T, path, body string, header http.Header) (int, bulkReply, []byte) {
	t.Helper()
	if header == nil {
		header = http.Header{}
	}
	header.Set("Content-Type", "application/x-ndjson")
	status, raw := c.do(t, "POST", path, strings.NewReader(body), header)
	var r bulkReply
	_ = json.Unmarshal(raw, &r)
	return status, r, raw
}

func TestElasticsearchBulkFromFluentBitAndVector(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	now := time.Now().UTC()
	ts := now.Format("2006-01-02T15:04:05.000Z")
	day := now.Format("2006.01.02")

	// What shippers ask before they send.
	status, body := c.do(t, "GET", "/es/", nil, nil)
	var info struct{ Version struct{ Number string } }
	_ = json.Unmarshal(body, &info)
	if status != 200 || !strings.HasPrefix(info.Version.Number, "8.") {
		t.Errorf("GET /es/: %d %s", status, body)
	}
	if status, body := c.do(t, "GET", "/es/_cluster/health", nil, nil); status != 200 || !contains(body, `"status":"green"`) {
		t.Errorf("health: %d %s", status, body)
	}
	if status, _ := c.do(t, "PUT", "/es/_index_template/logstash", strings.NewReader(`{"index_patterns":["logstash-*"]}`), nil); status != 200 {
		t.Errorf("template: %d", status)
	}

	// Fluent Bit's es output (Logstash_Format On, Suppress_Type_Name On):
	// create actions, the line in "log", gzip.
	fb := fmt.Sprintf(`{"create":{"_index":"logstash-%[1]s"}}
{"@timestamp":"%[2]s","log":"GET /cart 200","stream":"stdout","kubernetes":{"pod_name":"web-1"}}
{"create":{"_index":"logstash-%[1]s"}}
{"@timestamp":"%[2]s","log":"GET /pay 500","stream":"stderr","kubernetes":{"pod_name":"web-2"}}
`, day, ts)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(fb))
	zw.Close()
	status, raw := c.do(t, "POST", "/es/_bulk", &gz, http.Header{"Content-Type": {"application/x-ndjson"}, "Content-Encoding": {"gzip"}})
	var r bulkReply
	_ = json.Unmarshal(raw, &r)
	if status != 200 || r.Errors || len(r.Items) != 2 || r.Items[0]["create"]["status"] != 201.0 || r.Items[0]["create"]["result"] != "created" {
		t.Fatalf("Fluent Bit bulk: %d %s", status, raw)
	}
	res := c.logsQuery(t, `fields @message, @logStream, kubernetes.pod_name | sort @message asc`, "logstash")
	if len(res.Rows) != 2 || res.Rows[0]["@message"] != "GET /cart 200" || res.Rows[0]["kubernetes.pod_name"] != "web-1" || res.Rows[0]["@logStream"] != "logstash-"+day {
		t.Errorf("logstash group: %+v", res.Rows)
	}

	// Vector's elasticsearch sink: index actions, "message" and "timestamp",
	// the index in the path.
	vec := fmt.Sprintf(`{"index":{}}
{"message":"user login","timestamp":"%s","host":"web-1","source_type":"file","level":"info"}
`, ts)
	status, r, raw = c.bulk(t, "/es/vector-"+strings.ReplaceAll(day, ".", "-")+"/_bulk", vec, nil)
	if status != 200 || r.Errors || r.Items[0]["index"]["status"] != 201.0 {
		t.Fatalf("Vector bulk: %d %s", status, raw)
	}
	if res := c.logsQuery(t, `filter level = "info" | fields @message, host`, "vector"); len(res.Rows) != 1 || res.Rows[0]["host"] != "web-1" {
		t.Errorf("vector group: %+v", res.Rows)
	}
}

func TestElasticsearchBulkPartialFailure(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	body := `{"create":{"_index":"app","_id":"a1"}}
{"message":"good 1"}
{"create":{"_index":"app","_id":"a2"}}
{"message": broken json
{"delete":{"_index":"app","_id":"a1"}}
{"update":{"_index":"app","_id":"a1"}}
{"doc":{"message":"changed"}}
{"create":{"_index":"Bad Index Name!"}}
{"message":"bad index"}
{"create":{}}
{"message":"no index"}
{"index":{"_index":"app"}}
{"message":"good 2"}
`
	status, r, raw := c.bulk(t, "/es/_bulk", body, nil)
	if status != 200 || !r.Errors || len(r.Items) != 7 {
		t.Fatalf("bulk: %d %s", status, raw)
	}
	want := []struct {
		action string
		status float64
		error  string
	}{{"create", 201, ""}, {"create", 400, "document_parsing_exception"}, {"delete", 400, "append-only"}, {"update", 400, "append-only"},
		{"create", 400, "invalid_index_name_exception"}, {"create", 400, "index is missing"}, {"index", 201, ""}}
	for i, w := range want {
		it := r.Items[i][w.action]
		if it == nil || it["status"] != w.status || (w.error != "" && !strings.Contains(fmt.Sprint(it["error"]), w.error)) {
			t.Errorf("item %d: %v, want %s %v %q", i, r.Items[i], w.action, w.status, w.error)
		}
	}
	if r.Items[0]["create"]["_id"] != "a1" {
		t.Errorf("the _id is echoed: %v", r.Items[0])
	}
	if res := c.logsQuery(t, `fields @message | sort @message asc`, "app"); len(res.Rows) != 2 || res.Rows[1]["@message"] != "good 2" {
		t.Errorf("stored %+v, want the two good documents", res.Rows)
	}

	// An action line that is not an action: Elasticsearch refuses the whole
	// request, and nothing is stored.
	status, _, raw = c.bulk(t, "/es/_bulk", "{\"create\":{\"_index\":\"app\"}}\n{\"message\":\"lost\"}\nnot json\n{\"message\":\"x\"}\n", nil)
	if status != 400 || !contains(raw, "line 3") {
		t.Errorf("malformed action: %d %s", status, raw)
	}
	if res := c.logsQuery(t, `filter @message = "lost"`, "app"); len(res.Rows) != 0 {
		t.Errorf("a refused request stored %+v", res.Rows)
	}
}
