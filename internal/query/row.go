package query

import (
	"encoding/hex"
	"strings"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// Row is what expressions see: a record (nil for rows made by stats) and
// the fields the pipeline made so far.
type Row struct {
	rec   *eventstore.Record
	names []string
	vals  []Value

	jsonParsed bool
	jsonNames  []string
	jsonVals   []Value
}

func (r *Row) reset(rec *eventstore.Record) {
	r.rec = rec
	r.names, r.vals = r.names[:0], r.vals[:0]
	r.jsonParsed = false
	r.jsonNames, r.jsonVals = r.jsonNames[:0], r.jsonVals[:0]
}

// set gives field name the value v.
func (r *Row) set(name string, v Value) {
	for i, n := range r.names {
		if n == name {
			r.vals[i] = v
			return
		}
	}
	r.names = append(r.names, name)
	r.vals = append(r.vals, v)
}

// clone copies r so it outlives the batch its record came from.
func (r *Row) clone() *Row {
	c := &Row{names: append([]string(nil), r.names...), vals: append([]Value(nil), r.vals...)}
	if r.rec != nil {
		rec := *r.rec
		c.rec = &rec
	}
	return c
}

// Schema says which records a plan reads, and so which field names are
// system fields.
type Schema uint8

// Schemas.
const (
	Logs  Schema = iota // log records: @message, @log, @logStream, level…
	Spans               // spans: also service, name, kind, duration, status, traceId…
)

func (s Schema) defaultFields() []string {
	if s == Spans {
		return []string{"@timestamp", "traceId", "spanId", "service", "name", "duration"}
	}
	return []string{"@timestamp", "@message", "@logStream", "@log"}
}

// getter returns how to read field name, resolved once per query.
func (s Schema) getter(name string) func(*Row) Value {
	sys := s.systemField(name)
	return func(r *Row) Value {
		for i, n := range r.names {
			if n == name {
				return r.vals[i]
			}
		}
		if r.rec == nil {
			return Value{}
		}
		if sys != nil {
			return sys(r.rec)
		}
		return r.lookup(name)
	}
}

// systemField returns the accessor of a record field name refers to, or nil.
func (s Schema) systemField(name string) func(*eventstore.Record) Value {
	switch name {
	case "@timestamp":
		return func(r *eventstore.Record) Value { return timeV(r.Time) }
	case "@ingestionTime":
		return func(r *eventstore.Record) Value { return timeV(r.ObservedTime) }
	case "@message":
		return func(r *eventstore.Record) Value { return strV(r.Body) }
	case "@logStream":
		return func(r *eventstore.Record) Value { return strV(r.Stream) }
	case "@log":
		return func(r *eventstore.Record) Value { return strV(r.Group) }
	case "@severityNumber":
		return func(r *eventstore.Record) Value { return intV(int64(r.SeverityNumber)) }
	case "@traceId":
		return func(r *eventstore.Record) Value { return hexV(r.TraceID[:]) }
	case "@spanId":
		return func(r *eventstore.Record) Value { return hexV(r.SpanID[:]) }
	}
	if s == Logs {
		switch name {
		case "level", "severity", "@level":
			return func(r *eventstore.Record) Value {
				if r.SeverityText == "" {
					return Value{}
				}
				return strV(r.SeverityText)
			}
		}
		return nil
	}
	switch name {
	case "service", "@service":
		return func(r *eventstore.Record) Value { return strV(r.Group) }
	case "name", "@name":
		return func(r *eventstore.Record) Value { return strV(r.Name) }
	case "kind", "@kind":
		return func(r *eventstore.Record) Value { return strV(SpanKindName(r.Kind)) }
	case "duration", "@duration":
		return func(r *eventstore.Record) Value { return intV(r.Duration) }
	case "durationMs":
		return func(r *eventstore.Record) Value { return floatV(float64(r.Duration) / 1e6) }
	case "status", "@status":
		return func(r *eventstore.Record) Value { return strV(StatusName(r.StatusCode)) }
	case "statusMessage":
		return func(r *eventstore.Record) Value { return strV(r.StatusMessage) }
	case "traceId":
		return func(r *eventstore.Record) Value { return hexV(r.TraceID[:]) }
	case "spanId":
		return func(r *eventstore.Record) Value { return hexV(r.SpanID[:]) }
	case "parentId", "@parentId":
		return func(r *eventstore.Record) Value { return hexV(r.ParentSpanID[:]) }
	}
	return nil
}

// hexV is an id as lowercase hex, or "" when it is all zeros.
func hexV(id []byte) Value {
	for _, b := range id {
		if b != 0 {
			return strV(hex.EncodeToString(id))
		}
	}
	return strV("")
}

// SpanKindName names an OpenTelemetry span kind as the query language
// shows it.
func SpanKindName(k int8) string {
	switch k {
	case 1:
		return "internal"
	case 2:
		return "server"
	case 3:
		return "client"
	case 4:
		return "producer"
	case 5:
		return "consumer"
	}
	return "unspecified"
}

// StatusName names a span status code as the query language shows it.
func StatusName(c int8) string {
	switch c {
	case 1:
		return "ok"
	case 2:
		return "error"
	}
	return "unset"
}

// columnsOf is the record columns reading field name needs.
func (s Schema) columnsOf(name string) eventstore.Column {
	switch name {
	case "@timestamp":
		return eventstore.ColTime
	case "@ingestionTime":
		return eventstore.ColObservedTime
	case "@message":
		return eventstore.ColBody
	case "@logStream":
		return eventstore.ColStream
	case "@log":
		return eventstore.ColGroup
	case "@severityNumber":
		return eventstore.ColSeverity
	case "@traceId":
		return eventstore.ColTraceID
	case "@spanId":
		return eventstore.ColSpanID
	}
	if s.systemField(name) == nil {
		return eventstore.ColAttributes | eventstore.ColResource | eventstore.ColBody
	}
	switch name {
	case "level", "severity", "@level":
		return eventstore.ColSeverity
	case "service", "@service":
		return eventstore.ColGroup
	case "traceId":
		return eventstore.ColTraceID
	case "spanId":
		return eventstore.ColSpanID
	}
	return eventstore.ColSpan
}

// lookup finds a non-system field in the attributes, the resource, then a
// JSON body.
func (r *Row) lookup(name string) Value {
	key := name
	if strings.HasPrefix(key, "@@") {
		key = key[1:]
	}
	for _, a := range r.rec.Attributes {
		if a.Key == key {
			return fromStore(a.Value)
		}
	}
	for _, a := range r.rec.Resource {
		if a.Key == key {
			return fromStore(a.Value)
		}
	}
	if !r.jsonParsed {
		r.jsonParsed = true
		if body := strings.TrimSpace(r.rec.Body); strings.HasPrefix(body, "{") {
			_ = eventstore.FlattenJSON(body, func(k string, v eventstore.Value) {
				r.jsonNames = append(r.jsonNames, k)
				r.jsonVals = append(r.jsonVals, fromStore(v))
			})
		}
	}
	for i, n := range r.jsonNames {
		if n == key {
			return r.jsonVals[i]
		}
	}
	return Value{}
}
