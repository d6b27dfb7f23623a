package logs

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/query/filterpattern"
)

var ingestNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func TestDecodeNDJSONMapsWellKnownFields(t *testing.T) {
	body := `{"@timestamp":"2026-11-22T09:59:58.123456789Z","message":"GET /api/users 200","level":"warn","http":{"status":200,"path":"/api/users"},"duration_ms":12.5,"trace_id":"0102030405060708090a0b0c0d0e0f10","ok":true}
{"timestamp":1763805598123,"msg":"epoch millis","severity":"ERROR"}

{"time":1763805598,"@message":"epoch seconds","time_local":"x"}
{"message":"no time at all","timestamp":"yesterday"}
not json
{"message":"has a time too", "time": 1763805598.5}`
	recs, lines, errs := decodeNDJSON(body, "api", "s1", ingestNow)
	if len(recs) != 4 || fmt.Sprint(lines) != "[1 2 4 7]" {
		t.Fatalf("decoded %d records from lines %v, errors %v", len(recs), lines, errs)
	}
	if len(errs) != 2 || errs[0].Line != 5 || !strings.Contains(errs[0].Error, "yesterday") || errs[1].Line != 6 {
		t.Fatalf("line errors = %+v", errs)
	}
	r := recs[0]
	if r.Time != time.Date(2026, 11, 22, 9, 59, 58, 123456789, time.UTC).UnixNano() || r.ObservedTime != ingestNow.UnixNano() {
		t.Errorf("times = %d %d", r.Time, r.ObservedTime)
	}
	if r.Body != "GET /api/users 200" || r.SeverityText != "warn" || r.SeverityNumber != 13 || r.Group != "api" || r.Stream != "s1" {
		t.Errorf("record = %+v", r)
	}
	if r.TraceID != [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16} {
		t.Errorf("trace id = %x", r.TraceID)
	}
	attrs := map[string]eventstore.Value{}
	for _, a := range r.Attributes {
		attrs[a.Key] = a.Value
	}
	want := map[string]eventstore.Value{
		"http.status": eventstore.IntValue(200), "http.path": eventstore.StringValue("/api/users"),
		"duration_ms": eventstore.FloatValue(12.5), "ok": eventstore.BoolValue(true),
	}
	if fmt.Sprint(attrs) != fmt.Sprint(want) {
		t.Errorf("attributes = %v, want %v", attrs, want)
	}
	if recs[1].Time != 1763805598123*int64(time.Millisecond) || recs[1].Body != "epoch millis" || recs[1].SeverityNumber != 17 {
		t.Errorf("record 2 = %+v", recs[1])
	}
	if recs[2].Time != 1763805598*int64(time.Second) || recs[2].Body != "epoch seconds" || len(recs[2].Attributes) != 1 {
		t.Errorf("record 3 = %+v", recs[2])
	}
	if recs[3].Time != 1763805598500*int64(time.Millisecond) {
		t.Errorf("record 4 time = %d", recs[3].Time)
	}
}

func TestDecodeNDJSONKeepsTheLowerPriorityFieldAsAttribute(t *testing.T) {
	recs, _, _ := decodeNDJSON(`{"message":"m","msg":"other","timestamp":1,"time":2}`, "g", "s", ingestNow)
	if len(recs) != 1 || recs[0].Body != "m" || recs[0].Time != 1e9 {
		t.Fatalf("record = %+v", recs)
	}
	keys := []string{}
	for _, a := range recs[0].Attributes {
		keys = append(keys, a.Key)
	}
	if fmt.Sprint(keys) != "[msg time]" {
		t.Errorf("attributes %v, want msg and time kept", keys)
	}
}

func TestDecodeText(t *testing.T) {
	recs, lines := decodeText("first line\r\n\n  \nsecond line", "g", "s", ingestNow)
	if len(recs) != 2 || recs[0].Body != "first line" || recs[1].Body != "second line" || fmt.Sprint(lines) != "[1 4]" {
		t.Fatalf("records %+v lines %v", recs, lines)
	}
	if recs[0].Time != ingestNow.UnixNano() {
		t.Errorf("time = %d", recs[0].Time)
	}
}

func TestEpochUnits(t *testing.T) {
	for in, want := range map[string]int64{
		`1763805598`:          1763805598e9,
		`1763805598123`:       1763805598123e6,
		`1763805598123456`:    1763805598123456e3,
		`1763805598123456789`: 1763805598123456789,
		`"1763805598123"`:     1763805598123e6,
	} {
		recs, _, errs := decodeNDJSON(`{"time":`+in+`}`, "g", "s", ingestNow)
		if len(errs) > 0 || recs[0].Time != want {
			t.Errorf("time %s = %d (%v), want %d", in, recs[0].Time, errs, want)
		}
	}
}

// FuzzNDJSON checks that any body decodes without panicking and that every
// non-blank line is either a record or a line error, never both or neither.
func FuzzNDJSON(f *testing.F) {
	f.Add("{\"message\":\"a\"}\n{\"time\":\"2026-01-01T00:00:00Z\",\"x\":{\"y\":[1,2]}}\nnot json\n")
	f.Add(`{"timestamp":1e300,"level":"INFO","trace_id":"zz"}`)
	f.Add("\r\n\n{}")
	f.Fuzz(func(t *testing.T, body string) {
		recs, lines, errs := decodeNDJSON(body, "g", "s", ingestNow)
		nonBlank := 0
		forEachLine(body, func(int, string) { nonBlank++ })
		if len(recs)+len(errs) != nonBlank || len(lines) != len(recs) {
			t.Fatalf("%d records + %d errors for %d non-blank lines", len(recs), len(errs), nonBlank)
		}
	})
}

// The level of an NDJSON line becomes the record's severity; filter
// patterns still find it as the JSON field it was.
func TestRecordFieldFindsTheLevelNDJSONKeptAsSeverity(t *testing.T) {
	r := eventstore.Record{SeverityText: "error", Attributes: []eventstore.Attr{{Key: "order", Value: eventstore.StringValue("o-1")}}}
	for key, want := range map[string]string{"level": "error", "severity": "error", "order": "o-1"} {
		if v, ok := RecordField(&r, key); !ok || v.String() != want {
			t.Errorf("%s: %v %v, want %s", key, v, ok, want)
		}
	}
	if _, ok := RecordField(&r, "missing"); ok {
		t.Error("found a field that is not there")
	}
	p, _ := filterpattern.Parse(`{ $.level = "error" }`)
	if !matcher(p)(&r) {
		t.Error(`{ $.level = "error" } does not match a record ingested with "level":"error"`)
	}
}
