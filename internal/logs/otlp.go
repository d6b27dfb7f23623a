package logs

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// streamAttributes identify the source of a record within its group; their
// values, joined by '/', name its stream.
var streamAttributes = []string{
	"service.namespace", "service.name", "service.instance.id", "host.name",
	"k8s.namespace.name", "k8s.pod.name", "container.id",
}

// GroupRule says which log group an OTLP record goes to: Override if set
// (header X-Mirador-Log-Group), else the resource attribute Attribute, else
// Default.
type GroupRule struct {
	Override  string
	Attribute string
	Default   string
}

func (g GroupRule) group(res pcommon.Map) string {
	if g.Override != "" {
		return g.Override
	}
	if v, ok := res.Get(g.Attribute); ok && v.AsString() != "" {
		return v.AsString()
	}
	return g.Default
}

// recordsFromOTLP converts OTLP log records. Records without a timestamp
// take their observed time, or now.
func recordsFromOTLP(ld plog.Logs, rule GroupRule, now time.Time) []eventstore.Record {
	recs := make([]eventstore.Record, 0, ld.LogRecordCount())
	nowNanos := now.UnixNano()
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := rl.Resource().Attributes()
		group, stream := rule.group(res), streamOf(res)
		resource := attrsOf(res, nil)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			scope := scopeAttrs(sl.Scope())
			lrs := sl.LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				rec := eventstore.Record{
					Time:           int64(lr.Timestamp()),
					ObservedTime:   int64(lr.ObservedTimestamp()),
					Group:          group,
					Stream:         stream,
					SeverityText:   lr.SeverityText(),
					SeverityNumber: int32(lr.SeverityNumber()),
					Body:           lr.Body().AsString(),
					Attributes:     attrsOf(lr.Attributes(), scope),
					Resource:       resource,
					TraceID:        lr.TraceID(),
					SpanID:         lr.SpanID(),
				}
				if rec.ObservedTime == 0 {
					rec.ObservedTime = nowNanos
				}
				if rec.Time == 0 {
					rec.Time = rec.ObservedTime
				}
				if rec.SeverityText == "" {
					rec.SeverityText = severityText(rec.SeverityNumber)
				}
				recs = append(recs, rec)
			}
		}
	}
	return recs
}

// streamOf names a resource by its identifying attributes.
func streamOf(res pcommon.Map) string {
	var b strings.Builder
	for _, k := range streamAttributes {
		if v, ok := res.Get(k); ok && v.AsString() != "" {
			if b.Len() > 0 {
				b.WriteByte('/')
			}
			b.WriteString(v.AsString())
		}
	}
	if b.Len() == 0 {
		return "default"
	}
	return b.String()
}

func scopeAttrs(s pcommon.InstrumentationScope) []eventstore.Attr {
	var out []eventstore.Attr
	if s.Name() != "" {
		out = append(out, eventstore.Attr{Key: "otel.scope.name", Value: eventstore.StringValue(s.Name())})
	}
	if s.Version() != "" {
		out = append(out, eventstore.Attr{Key: "otel.scope.version", Value: eventstore.StringValue(s.Version())})
	}
	return out
}

// attrsOf converts m, flattening nested maps into dotted keys; arrays and
// bytes become their JSON and base64 text. extra is appended.
func attrsOf(m pcommon.Map, extra []eventstore.Attr) []eventstore.Attr {
	if m.Len() == 0 && len(extra) == 0 {
		return nil
	}
	out := make([]eventstore.Attr, 0, m.Len()+len(extra))
	out = appendAttrs(out, "", m)
	return append(out, extra...)
}

func appendAttrs(out []eventstore.Attr, prefix string, m pcommon.Map) []eventstore.Attr {
	for k, v := range m.All() {
		key := joinPath(prefix, k)
		switch v.Type() {
		case pcommon.ValueTypeMap:
			out = appendAttrs(out, key, v.Map())
		case pcommon.ValueTypeInt:
			out = append(out, eventstore.Attr{Key: key, Value: eventstore.IntValue(v.Int())})
		case pcommon.ValueTypeDouble:
			out = append(out, eventstore.Attr{Key: key, Value: eventstore.FloatValue(v.Double())})
		case pcommon.ValueTypeBool:
			out = append(out, eventstore.Attr{Key: key, Value: eventstore.BoolValue(v.Bool())})
		case pcommon.ValueTypeEmpty:
		default:
			out = append(out, eventstore.Attr{Key: key, Value: eventstore.StringValue(v.AsString())})
		}
	}
	return out
}

// severityText names an OpenTelemetry severity number's range.
func severityText(n int32) string {
	switch {
	case n <= 0:
		return ""
	case n <= 4:
		return "TRACE"
	case n <= 8:
		return "DEBUG"
	case n <= 12:
		return "INFO"
	case n <= 16:
		return "WARN"
	case n <= 20:
		return "ERROR"
	}
	return "FATAL"
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
