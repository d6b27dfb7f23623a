package xray

import (
	"bytes"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
)

func FuzzParsePacket(f *testing.F) {
	f.Add([]byte(header + segmentDoc("70de5b6f19ff9a0a", "svc", "")))
	f.Add([]byte(`{"format":"JSON","version":1}` + "\n{}"))
	f.Add([]byte(`{"format":"json","version":2}` + "\n{}"))
	f.Add([]byte("\n"))
	f.Add([]byte(`{"format":"json","version":1.0}` + "\n x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := ParsePacket(b)
		if err != nil {
			return
		}
		if len(bytes.TrimSpace(doc)) == 0 || !bytes.HasSuffix(b, doc) || len(doc) >= len(b) {
			t.Fatalf("ParsePacket(%q) = %q: not a non-empty tail of the datagram", b, doc)
		}
	})
}

// checkRecords asserts what every decoded record must satisfy.
func checkRecords(t *testing.T, doc []byte, recs []eventstore.Record) {
	t.Helper()
	for i, r := range recs {
		if r.TraceID == ([16]byte{}) || r.SpanID == ([8]byte{}) {
			t.Fatalf("Decode(%q): record %d has a zero trace or span id", doc, i)
		}
		if r.Group == "" || r.Name == "" || r.Time <= 0 || r.Duration < 0 {
			t.Fatalf("Decode(%q): record %d: group %q name %q time %d duration %d", doc, i, r.Group, r.Name, r.Time, r.Duration)
		}
		if v, ok := attr(r.Resource, "service.name"); !ok || v.Str != r.Group {
			t.Fatalf("Decode(%q): record %d: resource service.name %q, group %q", doc, i, v.Str, r.Group)
		}
	}
}

func FuzzDecodeSegment(f *testing.F) {
	f.Add(readTestdata(f, "segment.json"))
	f.Add([]byte(segmentDoc("70de5b6f19ff9a0a", "svc", `,"in_progress":true,"cause":"3e9e11e3ab3fba60"`)))
	f.Add([]byte(subsegmentDoc("70de5b6f19ff9a0b", "70de5b6f19ff9a0a", "sub", `,"namespace":"aws","aws":{"operation":"PutItem"}`)))
	f.Add([]byte("[" + subsegmentDoc("70de5b6f19ff9a0b", "70de5b6f19ff9a0a", "sub", "") + "]"))
	f.Add([]byte(segmentDoc("70de5b6f19ff9a0a", "svc", `,"start_time":1.4806152E9,"annotations":{"a":1e400,"b":"x"},"sql":{"url":"u:p@h/d"}`)))
	f.Add([]byte(`{}`))
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, doc []byte) {
		recs, err := d.Decode(doc, time.Unix(1, 0))
		if err != nil {
			if recs != nil {
				t.Fatalf("Decode(%q) returned records with error %v", doc, err)
			}
			return
		}
		if len(recs) == 0 {
			t.Fatalf("Decode(%q) returned no records and no error", doc)
		}
		checkRecords(t, doc, recs)
	})
}

func FuzzDecodePutTraceSegments(f *testing.F) {
	f.Add([]byte(`{"TraceSegmentDocuments":[` + mustJSON(segmentDoc("70de5b6f19ff9a0a", "svc", "")) + `,"x"]}`))
	f.Add([]byte(`{"TraceSegmentDocuments":[]}`))
	f.Add([]byte(`{"TraceSegmentDocuments":null}`))
	f.Add([]byte(`{}`))
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, unprocessed, err := d.DecodePutTraceSegments(body, time.Unix(1, 0))
		if err != nil {
			if recs != nil || unprocessed != nil {
				t.Fatalf("records or unprocessed returned with error %v", err)
			}
			return
		}
		checkRecords(t, body, recs)
		for _, u := range unprocessed {
			if u.ErrorCode == "" || u.Message == "" {
				t.Fatalf("unprocessed entry without code or message: %+v", u)
			}
		}
	})
}
