package main

import (
	"strings"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
)

func mustDecode(t *testing.T, body string) queryResponse {
	t.Helper()
	r, err := decodeQueryResponse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDecodeQueryResponse(t *testing.T) {
	r := mustDecode(t, `{"fields":["bin(1m)","level","count()"],"rows":[{"bin(1m)":"2026-11-22 11:03:00.000","count()":12345678901,"level":"INFO"}],"stats":{"recordsScanned":2,"bytesScanned":737,"durationMs":4},"status":"complete"}`)
	if n, err := resultInt(r.Rows[0]["count()"]); err != nil || n != 12345678901 || r.Stats.RecordsScanned != 2 || r.Stats.DurationMs != 4 {
		t.Errorf("decoded %+v (count %d, %v)", r, n, err)
	}
	for _, bad := range []string{`{"status":"running"}`, `not json`, `{"status":"complete","rows":7}`} {
		if _, err := decodeQueryResponse([]byte(bad)); err == nil {
			t.Errorf("decodeQueryResponse(%s) succeeded", bad)
		}
	}
}

func TestCheckNeedles(t *testing.T) {
	want := []needleRecord{
		{Index: 499_999, TimeMs: time.Date(2026, 11, 22, 10, 4, 9, 999e6, time.UTC).UnixMilli(), Message: "cache miss key=price:1 needle7f3c9a1e"},
		{Index: 1_499_999, TimeMs: time.Date(2026, 11, 22, 10, 12, 30, 0, time.UTC).UnixMilli(), Message: `search q="mug" needle7f3c9a1e`},
	}
	row := func(ts, msg string) string { return `{"@timestamp":"` + ts + `","@message":` + jsonString(msg) + `}` }
	both := row("2026-11-22 10:04:09.999", want[0].Message) + "," + row("2026-11-22 10:12:30.000", want[1].Message)
	tests := []struct {
		name    string
		body    string
		ok      bool
		problem string
	}{
		{"exactly the planted records", `{"status":"complete","fields":["@timestamp","@message"],"rows":[` + both + `]}`, true, ""},
		{"in RFC 3339", `{"status":"complete","rows":[` + row("2026-11-22T10:04:09.999Z", want[0].Message) + "," + row("2026-11-22T10:12:30Z", want[1].Message) + `]}`, true, ""},
		{"one missing", `{"status":"complete","rows":[` + row("2026-11-22 10:12:30.000", want[1].Message) + `]}`, false, "planted record #499999 is missing"},
		{"one extra", `{"status":"complete","rows":[` + both + "," + row("2026-11-22 10:00:00.000", "needle7f3c9a1eX") + `]}`, false, "row 2 is no planted record"},
		{"a duplicate", `{"status":"complete","rows":[` + both + "," + row("2026-11-22 10:12:30.000", want[1].Message) + `]}`, false, "row 2 is no planted record"},
		{"wrong time", `{"status":"complete","rows":[` + row("2026-11-22 10:04:09.998", want[0].Message) + "," + row("2026-11-22 10:12:30.000", want[1].Message) + `]}`, false, "missing"},
		{"partial", `{"status":"partial","partialReason":"budget","rows":[` + both + `]}`, false, "budget"},
		{"bad timestamp", `{"status":"complete","rows":[{"@timestamp":"yesterday","@message":"x"}]}`, false, `"yesterday" is not a time`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := checkNeedles(mustDecode(t, tt.body), want)
			if c.OK != tt.ok {
				t.Errorf("OK = %v, want %v (%s; %q)", c.OK, tt.ok, c.Summary, c.Problems)
			}
			if tt.problem != "" && !strings.Contains(strings.Join(c.Problems, "\n"), tt.problem) {
				t.Errorf("problems %q lack %q", c.Problems, tt.problem)
			}
		})
	}
}

func TestCheckStats(t *testing.T) {
	m := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC).Unix() / 60
	want := map[statsCell]int64{{m, "INFO"}: 100, {m, "ERROR"}: 3, {m + 1, "INFO"}: 50}
	fields := `"fields":["bin(1m)","level","count()"]`
	tests := []struct {
		name    string
		rows    string
		ok      bool
		problem string
	}{
		{"exact", `{"bin(1m)":"2026-11-22 10:00:00.000","level":"INFO","count()":100},{"bin(1m)":"2026-11-22 10:00:00.000","level":"ERROR","count()":3},{"bin(1m)":"2026-11-22 10:01:00.000","level":"INFO","count()":50}`, true, ""},
		{"a count off", `{"bin(1m)":"2026-11-22 10:00:00.000","level":"INFO","count()":99},{"bin(1m)":"2026-11-22 10:00:00.000","level":"ERROR","count()":3},{"bin(1m)":"2026-11-22 10:01:00.000","level":"INFO","count()":50}`, false, "count 99, want 100"},
		{"a cell missing", `{"bin(1m)":"2026-11-22 10:00:00.000","level":"INFO","count()":100},{"bin(1m)":"2026-11-22 10:01:00.000","level":"INFO","count()":50}`, false, `level "ERROR": count 0, want 3`},
		{"right sum, wrong cells", `{"bin(1m)":"2026-11-22 10:00:00.000","level":"INFO","count()":103},{"bin(1m)":"2026-11-22 10:01:00.000","level":"INFO","count()":50}`, false, "count 103, want 100"},
		{"an unaligned bin", `{"bin(1m)":"2026-11-22 10:00:30.000","level":"INFO","count()":100},{"bin(1m)":"2026-11-22 10:00:00.000","level":"ERROR","count()":3},{"bin(1m)":"2026-11-22 10:01:00.000","level":"INFO","count()":50}`, false, "does not start a minute"},
		{"a count that is no number", `{"bin(1m)":"2026-11-22 10:00:00.000","level":"INFO","count()":"many"}`, false, "count()"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := checkStats(mustDecode(t, `{"status":"complete",`+fields+`,"rows":[`+tt.rows+`]}`), want)
			if c.OK != tt.ok {
				t.Errorf("OK = %v, want %v (%s; %q)", c.OK, tt.ok, c.Summary, c.Problems)
			}
			if tt.problem != "" && !strings.Contains(strings.Join(c.Problems, "\n"), tt.problem) {
				t.Errorf("problems %q lack %q", c.Problems, tt.problem)
			}
		})
	}
	if c := checkStats(mustDecode(t, `{"status":"complete","fields":["@message"],"rows":[]}`), want); c.OK {
		t.Error("an answer without stats columns passed")
	}
}

func TestQueriesAreTheOnesTheBriefNames(t *testing.T) {
	if needleQuery != `filter @message like /\bneedle7f3c9a1e\b/ | fields @timestamp, @message` || statsQuery != "stats count() by bin(1m), level" {
		t.Errorf("queries %q, %q", needleQuery, statsQuery)
	}
}

func jsonString(s string) string { return string(eventstore.AppendJSONString(nil, s)) }

func FuzzDecodeQueryResponse(f *testing.F) {
	for _, s := range []string{
		`{"fields":["bin(1m)","level","count()"],"rows":[{"bin(1m)":"2026-11-22 11:03:00.000","count()":1,"level":"ERROR"}],"stats":{"recordsScanned":2,"bytesScanned":737,"durationMs":0},"status":"complete"}`,
		`{"fields":["@timestamp","@message"],"rows":[{"@message":"hello needle7f3c9a1e world","@timestamp":"2026-11-22 11:03:00.000"}],"status":"complete"}`,
		`{"status":"partial","partialReason":"scanned 1000000000 records","rows":[{"@timestamp":1763809380000}]}`,
		`{"status":"complete","rows":[{"bin(1m)":null,"count()":-1,"level":7}],"fields":["bin(1m)","count()","level"]}`,
	} {
		f.Add([]byte(s))
	}
	m := time.Date(2026, 11, 22, 11, 3, 0, 0, time.UTC).Unix() / 60
	needles := []needleRecord{{Index: 1, TimeMs: m * 60_000, Message: "hello needle7f3c9a1e world"}}
	cells := map[statsCell]int64{{m, "ERROR"}: 1}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeQueryResponse(body)
		if err != nil {
			return
		}
		if c := checkNeedles(r, needles); c.OK && len(r.Rows) != 1 {
			t.Errorf("needle check passed %d rows", len(r.Rows))
		}
		if c := checkStats(r, cells); c.OK && len(r.Rows) == 0 {
			t.Error("stats check passed no rows")
		}
	})
}
