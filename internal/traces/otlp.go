package traces

import (
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/otelconv"
	"github.com/miradorhq/mirador/internal/traces/xray"
)

// UnknownService is the service of spans whose resource names none, as the
// OpenTelemetry SDKs default it.
const UnknownService = xray.UnknownService

// RecordsFromOTLP converts OTLP spans into span records. observed is the
// receive time, Unix ns.
func RecordsFromOTLP(td ptrace.Traces, observed int64) []eventstore.Record {
	recs := make([]eventstore.Record, 0, td.SpanCount())
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := rs.Resource().Attributes()
		service := UnknownService
		if v, ok := res.Get("service.name"); ok && v.AsString() != "" {
			service = v.AsString()
		}
		stream, resource := otelconv.Stream(res), otelconv.Attrs(res, nil)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			scope := otelconv.ScopeAttrs(ss.Scope())
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				sp := spans.At(k)
				start, end := int64(sp.StartTimestamp()), int64(sp.EndTimestamp())
				rec := eventstore.Record{
					Time:          start,
					ObservedTime:  observed,
					Group:         service,
					Stream:        stream,
					Attributes:    otelconv.Attrs(sp.Attributes(), scope),
					Resource:      resource,
					TraceID:       sp.TraceID(),
					SpanID:        sp.SpanID(),
					ParentSpanID:  sp.ParentSpanID(),
					Name:          sp.Name(),
					Kind:          int8(sp.Kind()),
					Duration:      max(end-start, 0),
					StatusCode:    int8(sp.Status().Code()),
					StatusMessage: sp.Status().Message(),
					Events:        spanEvents(sp.Events()),
					Links:         spanLinks(sp.Links()),
				}
				if rec.Time == 0 {
					rec.Time = observed
				}
				recs = append(recs, rec)
			}
		}
	}
	return recs
}

func spanEvents(es ptrace.SpanEventSlice) []eventstore.SpanEvent {
	if es.Len() == 0 {
		return nil
	}
	out := make([]eventstore.SpanEvent, es.Len())
	for i := range out {
		e := es.At(i)
		out[i] = eventstore.SpanEvent{Time: int64(e.Timestamp()), Name: e.Name(), Attributes: otelconv.Attrs(e.Attributes(), nil)}
	}
	return out
}

func spanLinks(ls ptrace.SpanLinkSlice) []eventstore.SpanLink {
	if ls.Len() == 0 {
		return nil
	}
	out := make([]eventstore.SpanLink, ls.Len())
	for i := range out {
		l := ls.At(i)
		out[i] = eventstore.SpanLink{TraceID: l.TraceID(), SpanID: l.SpanID(), TraceState: l.TraceState().AsRaw(), Attributes: otelconv.Attrs(l.Attributes(), nil)}
	}
	return out
}
