package logs

import (
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/miradorhq/mirador/internal/eventstore"
)

func sampleOTLPLogs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	rl.Resource().Attributes().PutStr("host.name", "web-1")
	rl.Resource().Attributes().PutStr("team", "payments")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("shop/orders")
	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000))
	lr.SetObservedTimestamp(pcommon.Timestamp(1_700_000_000_500_000_000))
	lr.SetSeverityNumber(plog.SeverityNumberError)
	lr.Body().SetStr("payment declined")
	lr.Attributes().PutInt("amount", 42)
	lr.Attributes().PutDouble("ratio", 0.5)
	lr.Attributes().PutBool("retry", true)
	m := lr.Attributes().PutEmptyMap("card")
	m.PutStr("brand", "visa")
	lr.Attributes().PutEmptySlice("tags").AppendEmpty().SetStr("a")
	lr.SetTraceID(pcommon.TraceID{1, 2, 3})
	lr.SetSpanID(pcommon.SpanID{4, 5})

	rl2 := ld.ResourceLogs().AppendEmpty() // no service.name, no timestamps
	rl2.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetEmptyMap().PutStr("k", "v")
	return ld
}

func TestRecordsFromOTLP(t *testing.T) {
	recs := recordsFromOTLP(sampleOTLPLogs(), GroupRule{Attribute: "service.name", Default: "default"}, ingestNow)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r.Group != "checkout" || r.Stream != "checkout/web-1" || r.Body != "payment declined" || r.SeverityText != "ERROR" || r.SeverityNumber != 17 {
		t.Errorf("record = %+v", r)
	}
	if r.Time != 1_700_000_000_000_000_000 || r.ObservedTime != 1_700_000_000_500_000_000 {
		t.Errorf("times = %d %d", r.Time, r.ObservedTime)
	}
	if r.TraceID != [16]byte{1, 2, 3} || r.SpanID != [8]byte{4, 5} {
		t.Errorf("ids = %x %x", r.TraceID, r.SpanID)
	}
	attrs := map[string]eventstore.Value{}
	for _, a := range r.Attributes {
		attrs[a.Key] = a.Value
	}
	want := map[string]eventstore.Value{
		"amount": eventstore.IntValue(42), "ratio": eventstore.FloatValue(0.5), "retry": eventstore.BoolValue(true),
		"card.brand": eventstore.StringValue("visa"), "tags": eventstore.StringValue(`["a"]`),
		"otel.scope.name": eventstore.StringValue("shop/orders"),
	}
	if fmt.Sprint(attrs) != fmt.Sprint(want) {
		t.Errorf("attributes %v\nwant %v", attrs, want)
	}
	if len(r.Resource) != 3 {
		t.Errorf("resource = %v", r.Resource)
	}
	r2 := recs[1]
	if r2.Group != "default" || r2.Stream != "default" || r2.Time != ingestNow.UnixNano() || r2.Body != `{"k":"v"}` {
		t.Errorf("record without resource or times = %+v", r2)
	}

	over := recordsFromOTLP(sampleOTLPLogs(), GroupRule{Override: "audit", Attribute: "service.name", Default: "default"}, ingestNow)
	if over[0].Group != "audit" || over[1].Group != "audit" {
		t.Errorf("override: %s %s", over[0].Group, over[1].Group)
	}
	team := recordsFromOTLP(sampleOTLPLogs(), GroupRule{Attribute: "team", Default: "default"}, ingestNow)
	if team[0].Group != "payments" {
		t.Errorf("group from another attribute: %s", team[0].Group)
	}
}

// FuzzOTLPLogs decodes arbitrary bytes as an OTLP logs export (protobuf and
// JSON) and converts what decodes; it must never panic.
func FuzzOTLPLogs(f *testing.F) {
	req := plogotlp.NewExportRequestFromLogs(sampleOTLPLogs())
	pb, _ := req.MarshalProto()
	js, _ := req.MarshalJSON()
	f.Add(pb, false)
	f.Add(js, true)
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{}}}]}}}]}]}]}`), true)
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool) {
		req := plogotlp.NewExportRequest()
		var err error
		if isJSON {
			err = req.UnmarshalJSON(body)
		} else {
			err = req.UnmarshalProto(body)
		}
		if err != nil {
			return
		}
		recs := recordsFromOTLP(req.Logs(), GroupRule{Attribute: "service.name", Default: "default"}, ingestNow)
		if len(recs) != req.Logs().LogRecordCount() {
			t.Fatalf("%d records from %d", len(recs), req.Logs().LogRecordCount())
		}
	})
}
