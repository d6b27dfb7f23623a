package eventstore

// Datasets of a tenant. Each is stored and pruned separately; logs are
// further partitioned by group so retention can be set per log group.
const (
	DatasetLogs         = "logs"
	DatasetSpans        = "spans"
	DatasetEvents       = "events"
	DatasetAudit        = "audit"
	DatasetAlarmHistory = "alarm_history"
	DatasetUserEvents   = "user_events"
)

// Record is one event: a log record, a span, a bus event, an audit record.
// Fields a dataset does not use stay zero. The records handed to Append,
// their slice included, may be retained by the store; callers must not
// modify them afterwards.
type Record struct {
	Time           int64  // event time, Unix ns
	ObservedTime   int64  // when Mirador (or the first collector) saw it, Unix ns
	Group          string // log group (or service for spans); retention is per group
	Stream         string // resource identity within the group, e.g. "checkout/host-1"
	SeverityText   string
	SeverityNumber int32 // OpenTelemetry severity number, 0 = unspecified
	Body           string
	Attributes     []Attr
	Resource       []Attr
	TraceID        [16]byte // zero = none
	SpanID         [8]byte  // zero = none

	// Span fields.
	ParentSpanID  [8]byte
	Name          string
	Kind          int8  // OpenTelemetry span kind
	Duration      int64 // ns
	StatusCode    int8  // 0 unset, 1 ok, 2 error
	StatusMessage string
	Events        []SpanEvent
	Links         []SpanLink
}

// Attr is one typed attribute.
type Attr struct {
	Key   string
	Value Value
}

// Kind is the type of a Value.
type Kind uint8

// Value kinds. Arrays and maps are stored as their JSON text (KindString);
// nested maps are flattened into dotted keys by the receivers.
const (
	KindString Kind = iota
	KindInt
	KindFloat
	KindBool
)

// Value is a typed attribute value. Str holds strings, Int integers and
// booleans (0 or 1), Float floats.
type Value struct {
	Kind  Kind
	Str   string
	Int   int64
	Float float64
}

// String returns v as text: strings as they are, numbers in Go's shortest
// form, booleans as true/false.
func (v Value) String() string {
	switch v.Kind {
	case KindInt:
		return formatInt(v.Int)
	case KindFloat:
		return formatFloat(v.Float)
	case KindBool:
		if v.Int != 0 {
			return "true"
		}
		return "false"
	}
	return v.Str
}

// StringValue, IntValue, FloatValue and BoolValue build Values.
func StringValue(s string) Value { return Value{Kind: KindString, Str: s} }
func IntValue(i int64) Value     { return Value{Kind: KindInt, Int: i} }
func FloatValue(f float64) Value { return Value{Kind: KindFloat, Float: f} }
func BoolValue(b bool) Value {
	if b {
		return Value{Kind: KindBool, Int: 1}
	}
	return Value{Kind: KindBool}
}

// SpanEvent is a timed event within a span.
type SpanEvent struct {
	Time       int64
	Name       string
	Attributes []Attr
}

// SpanLink points from a span to another span.
type SpanLink struct {
	TraceID    [16]byte
	SpanID     [8]byte
	TraceState string
	Attributes []Attr
}
