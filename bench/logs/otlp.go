package main

import (
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// otlpScope is the instrumentation scope of the generated records.
const otlpScope = "github.com/miradorhq/mirador/bench/logs"

// encodeOTLP returns an OTLP ExportLogsServiceRequest in protobuf holding
// recs, the way an OpenTelemetry Collector exports a batch: one
// ResourceLogs per (service, pod), with service.name (the log group) and
// host.name as resource attributes, in the order each first appears.
func encodeOTLP(recs []Record) ([]byte, error) {
	ld := plog.NewLogs()
	byBucket := map[[2]string]plog.LogRecordSlice{}
	for i := range recs {
		r := &recs[i]
		key := [2]string{r.Service, r.Host}
		lrs, ok := byBucket[key]
		if !ok {
			rl := ld.ResourceLogs().AppendEmpty()
			res := rl.Resource().Attributes()
			res.PutStr("service.name", r.Service)
			res.PutStr("host.name", r.Host)
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(otlpScope)
			lrs = sl.LogRecords()
			byBucket[key] = lrs
		}
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(pcommon.Timestamp(r.Time))
		lr.SetObservedTimestamp(pcommon.Timestamp(r.Observed))
		lr.SetSeverityNumber(plog.SeverityNumber(otelSeverity[r.Level]))
		lr.SetSeverityText(levelNames[r.Level])
		lr.Body().SetStr(string(r.message()))
		if r.HasTrace {
			lr.SetTraceID(pcommon.TraceID(r.TraceID))
			lr.SetSpanID(pcommon.SpanID(r.SpanID))
		}
		attrs := lr.Attributes()
		attrs.EnsureCapacity(len(r.Attrs))
		for j := range r.Attrs {
			a := &r.Attrs[j]
			switch a.Kind {
			case AttrString:
				attrs.PutStr(a.Key, string(r.bytes(a.str)))
			case AttrInt:
				attrs.PutInt(a.Key, a.Int)
			case AttrFloat:
				attrs.PutDouble(a.Key, a.Float)
			case AttrBool:
				attrs.PutBool(a.Key, a.Int != 0)
			}
		}
	}
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		return nil, fmt.Errorf("encode OTLP logs request: %w", err)
	}
	return body, nil
}

// decodeOTLPResponse reads an ExportLogsServiceResponse and returns the
// records the server says it rejected, with its message.
func decodeOTLPResponse(body []byte) (rejected int64, message string, err error) {
	resp := plogotlp.NewExportResponse()
	if err := resp.UnmarshalProto(body); err != nil {
		return 0, "", fmt.Errorf("decode OTLP export response (%d bytes): %w", len(body), err)
	}
	ps := resp.PartialSuccess()
	return ps.RejectedLogRecords(), ps.ErrorMessage(), nil
}
