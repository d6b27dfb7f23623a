package logs

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/otelconv"
)

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
		group, stream := rule.group(res), otelconv.Stream(res)
		resource := otelconv.Attrs(res, nil)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			scope := otelconv.ScopeAttrs(sl.Scope())
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
					Attributes:     otelconv.Attrs(lr.Attributes(), scope),
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
